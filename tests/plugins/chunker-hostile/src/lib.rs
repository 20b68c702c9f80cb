//! A chunker that misbehaves on purpose, so the tests can check that the host survives every
//! way a plugin can go wrong. Its `mode` config picks the misbehaviour; `whole` (the default)
//! returns the whole document as one chunk tagged with the `tag` config, which the hot-swap
//! tests use to tell versions apart.

use std::hint::black_box;
use std::time::{Duration, Instant};

use genops_sdk::chunker::{config, log, Chunk, Chunker, Document, PluginError, PluginInfo};

/// The exported plugin.
pub struct Hostile;

impl Chunker for Hostile {
    fn describe() -> PluginInfo {
        PluginInfo::new("chunker-hostile", "misbehaves on purpose")
            .option(
                "mode",
                "whole, slow, loop, alloc, recurse, panic, error, past-end, mid-char, reversed, log-flood, sleep, poll, stdout",
                Some("whole"),
            )
            .option("tag", "copied into each chunk's metadata", Some("v1"))
            .option("busy-ms", "how long `slow` works before answering", Some("200"))
    }

    fn split(doc: Document) -> Result<Vec<Chunk>, PluginError> {
        let mode = config::get("mode").unwrap_or_else(|| "whole".into());
        let tag = config::get("tag").unwrap_or_default();
        let whole = Chunk::new(0, doc.text.len()).with("tag", tag);
        match mode.as_str() {
            "whole" => Ok(vec![whole]),
            "slow" => {
                let busy: u64 = config::parse("busy-ms", 200)?;
                let until = Instant::now() + Duration::from_millis(busy);
                while Instant::now() < until {
                    black_box(());
                }
                Ok(vec![whole])
            }
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    black_box(&hoard);
                }
            }
            "recurse" => Ok(vec![Chunk::new(
                0,
                recurse(doc.text.len() as u64 + 1) as usize,
            )]),
            "panic" => panic!("hostile plugin panicked on purpose"),
            "error" => Err(PluginError::InvalidInput("refused on purpose".into())),
            "past-end" => Ok(vec![Chunk::new(0, doc.text.len() + 10)]),
            "mid-char" => {
                let inside = (1..doc.text.len())
                    .find(|&i| !doc.text.is_char_boundary(i))
                    .unwrap_or(doc.text.len() + 1);
                Ok(vec![Chunk::new(0, inside)])
            }
            "reversed" => Ok(vec![Chunk::new(doc.text.len(), 0)]),
            "log-flood" => {
                for i in 0..100_000 {
                    log::info(&format!("flood {i}"));
                }
                Ok(vec![whole])
            }
            // Blocks in the host (wasi:io/poll on a timer) rather than in wasm, where epoch
            // interruption cannot reach it.
            "sleep" => {
                std::thread::sleep(Duration::from_secs(3600));
                Ok(vec![whole])
            }
            "poll" => {
                let timer =
                    wasip2::clocks::monotonic_clock::subscribe_duration(3600 * 1_000_000_000);
                wasip2::io::poll::poll(&[&timer]);
                Ok(vec![whole])
            }
            "stdout" => {
                for i in 0..200_000 {
                    println!("stdout flood {i}: a plugin printing far more than anyone reads");
                }
                Err(PluginError::Other("printed 200000 lines to stdout".into()))
            }
            other => Err(PluginError::InvalidConfig(format!(
                "config `mode` has value `{other}`; see describe() for the modes"
            ))),
        }
    }
}

genops_sdk::export_chunker!(Hostile);

/// Recursion the optimiser cannot turn into a loop. Its frames hold only scalars, which live
/// on WebAssembly's own stack (guarded by the host) rather than on the shadow stack in linear
/// memory, so it exhausts the former.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == 0 {
        return 1;
    }
    let below = recurse(depth.wrapping_add(1));
    below.wrapping_mul(depth) ^ depth.rotate_left(below as u32)
}
