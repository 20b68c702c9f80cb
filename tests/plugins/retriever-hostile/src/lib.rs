//! A retriever that misbehaves on purpose, so the tests can check that `genops search`,
//! `genops eval` and a server survive every way a retriever can go wrong. Its `mode` config
//! picks the misbehaviour; `normal` (the default) passes the query to the host's BM25 search.

use std::hint::black_box;

use genops_sdk::retriever::{config, search, Hit, PluginError, PluginInfo, Query, Retriever};

/// The exported plugin.
pub struct Hostile;

impl Retriever for Hostile {
    fn describe() -> PluginInfo {
        PluginInfo::new("retriever-hostile", "misbehaves on purpose").option(
            "mode",
            "normal, panic, loop, alloc, sleep, stdout, error, unknown-id, nan, too-many",
            Some("normal"),
        )
    }

    fn retrieve(query: Query) -> Result<Vec<Hit>, PluginError> {
        let mode = config::get("mode").unwrap_or_else(|| "normal".into());
        let found = || -> Result<Vec<Hit>, PluginError> {
            let hits =
                search::search_text(&query.index, &query.text, query.k, &search::filters(&query))?;
            Ok(hits
                .into_iter()
                .map(|s| Hit {
                    chunk_id: s.chunk_id,
                    score: s.score,
                    metadata: vec![],
                })
                .collect())
        };
        match mode.as_str() {
            "normal" => found(),
            "panic" => panic!("hostile retriever panicked on purpose"),
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
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(30));
                found()
            }
            "stdout" => {
                for i in 0..100_000 {
                    println!("hostile retriever writes line {i} to stdout");
                }
                found()
            }
            "error" => Err(PluginError::InvalidInput("refused on purpose".into())),
            "unknown-id" => Ok(vec![Hit {
                chunk_id: "no-such-chunk".into(),
                score: 1.0,
                metadata: vec![],
            }]),
            "nan" => Ok(vec![Hit {
                chunk_id: "whatever".into(),
                score: f64::NAN,
                metadata: vec![],
            }]),
            "too-many" => Ok((0..query.k + 5)
                .map(|i| Hit {
                    chunk_id: format!("c{i}"),
                    score: 1.0,
                    metadata: vec![],
                })
                .collect()),
            other => Err(PluginError::InvalidConfig(format!(
                "config `mode` has value `{other}`; see describe() for the modes"
            ))),
        }
    }
}

genops_sdk::export_retriever!(Hostile);
