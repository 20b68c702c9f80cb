//! [`Models`]: the models of a store, loaded on first use, each served by worker threads
//! that batch the requests of concurrent callers.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::manifest::{Activation, Pooling, Task};
use crate::onnx::{init_runtime, OutputKind, Runner};
use crate::pool;
use crate::store::{ModelSpec, ModelStore};
use crate::tokenize::{Encoded, TextTokenizer, TokenInfo};
use crate::{Error, ModelsConfig};

/// One text's embedding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Embedding {
    /// The vector (unit length when the model normalises).
    pub vector: Vec<f32>,
    /// Tokens the model read, special tokens included.
    pub tokens: u32,
    /// Whether the text was cut at the model's maximum length.
    pub truncated: bool,
}

/// The contextual vector of every token of one text (for BERTScore and the like).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenEmbeddings {
    /// The tokens, with offsets into the text.
    pub tokens: Vec<TokenInfo>,
    /// One vector per token, not normalised.
    pub vectors: Vec<Vec<f32>>,
    /// Whether the text was cut at the model's maximum length.
    pub truncated: bool,
}

/// One input of a classifier: a text, or a pair for pair classifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyInput {
    /// The text (for a reranker: the query).
    pub text: String,
    /// The second text (for a reranker: the passage); pair classifiers need it.
    pub pair: Option<String>,
}

/// A label and its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelScore {
    /// The label's name.
    pub label: String,
    /// Softmax probability or sigmoid score, as the model's manifest says.
    pub score: f32,
}

/// One input's classification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// One score per label, in the manifest's label order.
    pub scores: Vec<LabelScore>,
    /// Whether the input was cut at the model's maximum length.
    pub truncated: bool,
}

/// What is known about a loaded model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// Its name.
    pub name: String,
    /// Its task.
    pub task: Task,
    /// Vector size (embedding models), once known.
    pub dimension: Option<usize>,
    /// Longest input in tokens.
    pub max_length: u32,
    /// The weights' sha256.
    pub sha256: String,
    /// Batches run so far.
    pub batches: u64,
    /// Inputs run so far.
    pub inputs: u64,
}

/// The models of one store, loaded on first use and shared by every caller. Cheap to clone.
#[derive(Clone)]
pub struct Models {
    inner: Arc<Inner>,
}

struct Inner {
    store: ModelStore,
    config: ModelsConfig,
    workers: Mutex<HashMap<String, Arc<Worker>>>,
}

impl Models {
    /// The models of `store`. Nothing is loaded until a model is used.
    pub fn new(store: ModelStore, config: ModelsConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                config,
                workers: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &ModelStore {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &ModelsConfig {
        &self.inner.config
    }

    /// Whether `name` is an installed model or a model folder.
    pub fn exists(&self, name: &str) -> bool {
        self.inner.store.resolve(name).is_ok()
    }

    /// Loads a model now (checking its hash and starting its workers), rather than on first
    /// use, and describes it.
    pub fn load(&self, name: &str) -> Result<ModelInfo, Error> {
        Ok(self.worker(name)?.info())
    }

    /// Embeds texts with an embedding model. Inputs of every caller are batched together,
    /// sorted by length, and padded per batch.
    pub fn embed<S: AsRef<str>>(&self, model: &str, texts: &[S]) -> Result<Vec<Embedding>, Error> {
        self.embed_at(model, texts, 0)
    }

    /// [`embed`](Self::embed) of a slice of a caller's texts that starts at text `first`, so
    /// an error names the text by its place in the whole call.
    fn embed_at<S: AsRef<str>>(
        &self,
        model: &str,
        texts: &[S],
        first: usize,
    ) -> Result<Vec<Embedding>, Error> {
        let worker = self.worker(model)?;
        worker.require(Task::Embedding, "embedding", "an embedding model")?;
        self.check_texts(texts.iter().map(AsRef::as_ref))?;
        let encoded = texts
            .iter()
            .enumerate()
            .map(|(i, t)| worker.encode_nonempty(first + i, t.as_ref(), None))
            .collect::<Result<Vec<_>, Error>>()?;
        let meta: Vec<(u32, bool)> = encoded
            .iter()
            .map(|e| (e.ids.len() as u32, e.truncated))
            .collect();
        let outputs = worker.submit(encoded, Want::Pooled)?;
        Ok(outputs
            .into_iter()
            .zip(meta)
            .map(|(out, (tokens, truncated))| Embedding {
                vector: out.into_vector(),
                tokens,
                truncated,
            })
            .collect())
    }

    /// [`embed`](Self::embed) for a caller with a deadline: a model run cannot be interrupted,
    /// so the texts are embedded in slices, each no larger than the time left allows
    /// (judged by how long the texts so far took), and never more than the batch size.
    /// `Ok(None)` when the deadline passed or the next slice would not finish before it:
    /// the caller's time is up, and the work done so far is dropped. The first slice is
    /// small, so a call overruns its deadline by at most a few texts.
    pub fn embed_before<S: AsRef<str>>(
        &self,
        model: &str,
        texts: &[S],
        deadline: Instant,
    ) -> Result<Option<Vec<Embedding>>, Error> {
        // The whole call is checked up front, as `embed` does, so a call refused for its
        // size is refused before any work.
        self.check_texts(texts.iter().map(AsRef::as_ref))?;
        in_slices(texts, self.batch_size(), deadline, |first, slice| {
            self.embed_at(model, slice, first)
        })
    }

    /// The contextual vector of every token of one text.
    pub fn embed_tokens(&self, model: &str, text: &str) -> Result<TokenEmbeddings, Error> {
        let worker = self.worker(model)?;
        worker.require(Task::Embedding, "token embedding", "an embedding model")?;
        if worker.output_kind == OutputKind::Rows {
            return Err(Error::Shape {
                model: worker.spec.manifest.name.clone(),
                message: "its export outputs pooled vectors only; token embeddings need an output of shape [batch, seq, hidden] (last_hidden_state)".into(),
            });
        }
        self.check_texts(std::iter::once(text))?;
        let (encoded, tokens) = worker.tokenizer.tokens(text)?;
        if encoded.ids.len() <= worker.empty_len {
            return Err(empty_text(0));
        }
        let truncated = encoded.truncated;
        let out = worker.submit(vec![encoded], Want::Tokens)?;
        let vectors = out
            .into_iter()
            .next()
            .map(Output::into_rows)
            .unwrap_or_default();
        Ok(TokenEmbeddings {
            tokens,
            vectors,
            truncated,
        })
    }

    /// Scores inputs with a classifier.
    pub fn classify(
        &self,
        model: &str,
        inputs: &[ClassifyInput],
    ) -> Result<Vec<Classification>, Error> {
        self.classify_at(model, inputs, 0)
    }

    /// [`classify`](Self::classify) for a caller with a deadline, in slices sized to the time
    /// left, as [`embed_before`](Self::embed_before) embeds: `Ok(None)` when the deadline
    /// passed or the next slice would not finish before it.
    pub fn classify_before(
        &self,
        model: &str,
        inputs: &[ClassifyInput],
        deadline: Instant,
    ) -> Result<Option<Vec<Classification>>, Error> {
        self.check_texts(classify_texts(inputs))?;
        in_slices(inputs, self.batch_size(), deadline, |first, slice| {
            self.classify_at(model, slice, first)
        })
    }

    /// [`classify`](Self::classify) of a slice of a caller's inputs that starts at input
    /// `first`, so an error names the input by its place in the whole call.
    fn classify_at(
        &self,
        model: &str,
        inputs: &[ClassifyInput],
        first: usize,
    ) -> Result<Vec<Classification>, Error> {
        let worker = self.worker(model)?;
        let task = worker.spec.manifest.task;
        if !task.is_classification() {
            return Err(Error::WrongTask {
                model: worker.spec.manifest.name.clone(),
                task,
                operation: "classification",
                needs: "a sequence-classification or pair-classification model",
            });
        }
        self.check_texts(classify_texts(inputs))?;
        let encoded = inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                let i = first + i;
                let pair = match (task, &input.pair) {
                    (Task::PairClassification, None) => {
                        return Err(Error::InvalidInput(format!(
                            "input {i} has no pair; `{}` is a pair-classification model and scores two texts (query and passage, premise and hypothesis)",
                            worker.spec.manifest.name
                        )))
                    }
                    (Task::SequenceClassification, Some(_)) => {
                        return Err(Error::InvalidInput(format!(
                            "input {i} has a pair; `{}` is a sequence-classification model and scores one text",
                            worker.spec.manifest.name
                        )))
                    }
                    (_, pair) => pair.as_deref(),
                };
                worker.encode_nonempty(i, &input.text, pair)
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let truncated: Vec<bool> = encoded.iter().map(|e| e.truncated).collect();
        let outputs = worker.submit(encoded, Want::Rows)?;
        let labels = &worker.spec.manifest.labels;
        outputs
            .into_iter()
            .zip(truncated)
            .map(|(out, truncated)| {
                let logits = out.into_vector();
                if logits.len() != labels.len() {
                    return Err(Error::Shape {
                        model: worker.spec.manifest.name.clone(),
                        message: format!(
                            "it outputs {} logits, but its manifest lists {} labels; fix `labels` in genops-model.toml",
                            logits.len(),
                            labels.len()
                        ),
                    });
                }
                let scores = match worker.spec.manifest.activation() {
                    Activation::Softmax => pool::softmax(&logits),
                    Activation::Sigmoid => pool::sigmoid(&logits),
                };
                Ok(Classification {
                    scores: labels
                        .iter()
                        .zip(scores)
                        .map(|(label, score)| LabelScore {
                            label: label.clone(),
                            score,
                        })
                        .collect(),
                    truncated,
                })
            })
            .collect()
    }

    /// How many tokens each text is for the model, without truncation, special tokens
    /// included. Needs only the tokenizer.
    pub fn count_tokens<S: AsRef<str>>(&self, model: &str, texts: &[S]) -> Result<Vec<u32>, Error> {
        let worker = self.worker(model)?;
        self.check_texts(texts.iter().map(AsRef::as_ref))?;
        texts
            .iter()
            .map(|t| worker.tokenizer.count(t.as_ref()))
            .collect()
    }

    /// [`count_tokens`](Self::count_tokens) for a caller with a deadline, in slices sized to
    /// the time left, as [`embed_before`](Self::embed_before) embeds: tokenising many long
    /// texts takes time too. `Ok(None)` when the deadline passed or the next slice would not
    /// finish before it.
    pub fn count_tokens_before<S: AsRef<str>>(
        &self,
        model: &str,
        texts: &[S],
        deadline: Instant,
    ) -> Result<Option<Vec<u32>>, Error> {
        self.check_texts(texts.iter().map(AsRef::as_ref))?;
        in_slices(texts, self.batch_size(), deadline, |_, slice| {
            self.count_tokens(model, slice)
        })
    }

    /// Describes every model loaded so far.
    pub fn loaded(&self) -> Vec<ModelInfo> {
        let workers = self.inner.workers.lock().unwrap_or_else(|e| e.into_inner());
        let mut infos: Vec<ModelInfo> = workers.values().map(|w| w.info()).collect();
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        infos
    }

    /// The most inputs one slice of a call with a deadline may hold.
    fn batch_size(&self) -> usize {
        self.inner.config.batch_size.max(1)
    }

    fn check_texts<'a>(&self, texts: impl Iterator<Item = &'a str>) -> Result<(), Error> {
        let config = &self.inner.config;
        let mut count = 0;
        for (i, text) in texts.enumerate() {
            count += 1;
            if text.len() > config.max_text_bytes {
                return Err(Error::InvalidInput(format!(
                    "text {i} is {} bytes, more than the {} allowed (models.max-text-bytes); split long documents into chunks first: the model reads only its first few hundred tokens",
                    text.len(),
                    config.max_text_bytes
                )));
            }
        }
        if count > config.max_texts {
            return Err(Error::InvalidInput(format!(
                "{count} texts in one request, more than the {} allowed (models.max-texts); send them in several requests",
                config.max_texts
            )));
        }
        if count == 0 {
            return Err(Error::InvalidInput(
                "no texts given; pass at least one".into(),
            ));
        }
        Ok(())
    }

    fn worker(&self, name: &str) -> Result<Arc<Worker>, Error> {
        let mut workers = self.inner.workers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = workers.get(name) {
            if !w.queue.is_closed() {
                return Ok(w.clone());
            }
        }
        let spec = self.inner.store.resolve(name)?;
        let worker = Arc::new(Worker::start(spec, &self.inner.store, &self.inner.config)?);
        workers.insert(name.to_string(), worker.clone());
        Ok(worker)
    }
}

/// Every text of classifier inputs, pairs included, for the size checks.
fn classify_texts(inputs: &[ClassifyInput]) -> impl Iterator<Item = &str> {
    inputs
        .iter()
        .flat_map(|i| std::iter::once(i.text.as_str()).chain(i.pair.as_deref()))
}

/// Runs `run` over `items` in slices, each no larger than the time left before `deadline`
/// allows (judged by how long the items so far took) and never more than `batch`; `run` gets
/// the index of a slice's first item and the slice. `Ok(None)` when the deadline passed or
/// the next slice would not finish before it: a model run cannot be interrupted, so the
/// caller's time is up and the work done so far is dropped. The first slice is small (at
/// most 4 items), so a call overruns its deadline by at most a few items.
fn in_slices<I, T>(
    items: &[I],
    batch: usize,
    deadline: Instant,
    mut run: impl FnMut(usize, &[I]) -> Result<Vec<T>, Error>,
) -> Result<Option<Vec<T>>, Error> {
    let batch = batch.max(1);
    let mut out = Vec::with_capacity(items.len());
    let mut per_item: Option<Duration> = None;
    let mut next = 0;
    while next < items.len() {
        let now = Instant::now();
        let left = deadline.saturating_duration_since(now);
        if left.is_zero() {
            return Ok(None);
        }
        let size = match per_item {
            None => batch.min(4),
            Some(each) if each.is_zero() => batch,
            Some(each) => {
                let fits = (left.as_nanos() / each.as_nanos()).min(batch as u128) as usize;
                if fits == 0 {
                    return Ok(None);
                }
                fits
            }
        };
        let slice = &items[next..(next + size).min(items.len())];
        out.extend(run(next, slice)?);
        let took = now.elapsed();
        // The slowest rate seen so far, so one fast slice does not invite a late one.
        let rate = took / slice.len() as u32;
        per_item = Some(per_item.map_or(rate, |r| r.max(rate)));
        next += slice.len();
    }
    Ok(Some(out))
}

fn empty_text(i: usize) -> Error {
    Error::InvalidInput(format!(
        "text {i} is empty (or only whitespace), so it has no tokens to embed; drop empty texts before sending them"
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// One pooled (and maybe normalised) vector per input.
    Pooled,
    /// Every token's vector.
    Tokens,
    /// The model's row output as is (classifier logits).
    Rows,
}

enum Output {
    Vector(Vec<f32>),
    Rows(Vec<Vec<f32>>),
}

impl Output {
    fn into_vector(self) -> Vec<f32> {
        match self {
            Output::Vector(v) => v,
            Output::Rows(mut r) => r.pop().unwrap_or_default(),
        }
    }

    fn into_rows(self) -> Vec<Vec<f32>> {
        match self {
            Output::Rows(r) => r,
            Output::Vector(v) => vec![v],
        }
    }
}

type Reply = Result<Vec<Output>, Error>;

struct Job {
    items: Vec<Encoded>,
    want: Want,
    reply: SyncSender<Reply>,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    closed: bool,
}

#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

impl Queue {
    fn push(&self, job: Job) -> Result<(), Job> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.closed {
            return Err(job);
        }
        state.jobs.push_back(job);
        drop(state);
        self.ready.notify_one();
        Ok(())
    }

    /// Waits for work, then takes queued jobs that want the same output until the batch
    /// size is reached: callers that arrived while the last batch ran share the next one.
    fn take(&self, batch_size: usize) -> Option<Vec<Job>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if state.closed {
                return None;
            }
            if !state.jobs.is_empty() {
                break;
            }
            state = self.ready.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        let first = state.jobs.pop_front().expect("not empty");
        let want = first.want;
        let mut items = first.items.len();
        let mut taken = vec![first];
        while items < batch_size {
            let Some(pos) = state.jobs.iter().position(|j| j.want == want) else {
                break;
            };
            items += state.jobs[pos].items.len();
            taken.push(state.jobs.remove(pos).expect("position is valid"));
        }
        Some(taken)
    }

    fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.closed = true;
        for job in state.jobs.drain(..) {
            let _ = job.reply.send(Err(Error::WorkerStopped(String::new())));
        }
        drop(state);
        self.ready.notify_all();
    }

    fn is_closed(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed
    }
}

struct Worker {
    spec: ModelSpec,
    tokenizer: Arc<TextTokenizer>,
    queue: Arc<Queue>,
    threads: Vec<JoinHandle<()>>,
    output_kind: OutputKind,
    /// Length of the encoding of "" (the special tokens alone).
    empty_len: usize,
    stats: Arc<Stats>,
}

#[derive(Default)]
struct Stats {
    batches: AtomicU64,
    inputs: AtomicU64,
    dimension: AtomicU64,
}

impl Worker {
    fn start(spec: ModelSpec, store: &ModelStore, config: &ModelsConfig) -> Result<Self, Error> {
        spec.check_files()?;
        if spec.pinned {
            spec.verify()?;
        }
        let manifest = &spec.manifest;
        let tokenizer = Arc::new(TextTokenizer::load(
            &spec.tokenizer(),
            &manifest.name,
            manifest.max_length as usize,
        )?);
        let empty_len = tokenizer.encode("", None)?.ids.len();
        let library = store.runtime_library(config.onnxruntime.as_deref())?;
        let env = init_runtime(&library)?;
        let mut runners = Vec::with_capacity(config.sessions);
        for _ in 0..config.sessions {
            runners.push(Runner::open(
                env,
                &spec.weights(),
                &manifest.name,
                config.intra_threads(),
                manifest.task.is_classification(),
            )?);
        }
        let output_kind = runners[0].output_kind();
        if manifest.task.is_classification() && output_kind != OutputKind::Rows {
            return Err(Error::Shape {
                model: manifest.name.clone(),
                message: "a classifier must output logits of shape [batch, labels]".into(),
            });
        }
        let queue = Arc::new(Queue::default());
        let stats = Arc::new(Stats::default());
        let threads = runners
            .into_iter()
            .enumerate()
            .map(|(i, runner)| {
                let ctx = BatchContext {
                    runner,
                    pooling: manifest.pooling(),
                    normalize: manifest.normalize(),
                    batch_size: config.batch_size,
                    max_batch_tokens: config.max_batch_tokens,
                    stats: stats.clone(),
                };
                let queue = queue.clone();
                std::thread::Builder::new()
                    .name(format!("genops-model-{}-{i}", manifest.name))
                    .spawn(move || serve(queue, ctx))
                    .map_err(|e| Error::Onnx {
                        model: manifest.name.clone(),
                        message: format!("cannot start a worker thread ({e})"),
                    })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        tracing::info!(model = %manifest.name, sessions = config.sessions, "model loaded");
        Ok(Self {
            spec,
            tokenizer,
            queue,
            threads,
            output_kind,
            empty_len,
            stats,
        })
    }

    fn require(
        &self,
        task: Task,
        operation: &'static str,
        needs: &'static str,
    ) -> Result<(), Error> {
        if self.spec.manifest.task != task {
            return Err(Error::WrongTask {
                model: self.spec.manifest.name.clone(),
                task: self.spec.manifest.task,
                operation,
                needs,
            });
        }
        Ok(())
    }

    fn encode_nonempty(&self, i: usize, text: &str, pair: Option<&str>) -> Result<Encoded, Error> {
        let encoded = self.tokenizer.encode(text, pair)?;
        if pair.is_none() && encoded.ids.len() <= self.empty_len {
            return Err(empty_text(i));
        }
        Ok(encoded)
    }

    fn submit(&self, items: Vec<Encoded>, want: Want) -> Result<Vec<Output>, Error> {
        let (reply, answer) = sync_channel(1);
        let stopped = || Error::WorkerStopped(self.spec.manifest.name.clone());
        self.queue
            .push(Job { items, want, reply })
            .map_err(|_| stopped())?;
        match answer.recv() {
            Ok(Err(Error::WorkerStopped(_))) | Err(_) => Err(stopped()),
            Ok(result) => result,
        }
    }

    fn info(&self) -> ModelInfo {
        let m = &self.spec.manifest;
        let dimension = self.stats.dimension.load(Ordering::Relaxed);
        ModelInfo {
            name: m.name.clone(),
            task: m.task,
            dimension: (dimension > 0).then_some(dimension as usize),
            max_length: m.max_length,
            sha256: m.sha256.clone(),
            batches: self.stats.batches.load(Ordering::Relaxed),
            inputs: self.stats.inputs.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.queue.close();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

struct BatchContext {
    runner: Runner,
    pooling: Pooling,
    normalize: bool,
    batch_size: usize,
    max_batch_tokens: usize,
    stats: Arc<Stats>,
}

/// A worker thread: takes jobs, runs them in length-sorted batches, answers each caller.
fn serve(queue: Arc<Queue>, mut ctx: BatchContext) {
    while let Some(jobs) = queue.take(ctx.batch_size) {
        let want = jobs[0].want;
        let items: Vec<&Encoded> = jobs.iter().flat_map(|j| j.items.iter()).collect();
        // A panic inside ONNX Runtime's bindings must not leave callers waiting forever.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_items(&mut ctx, &items, want)
        }));
        let result = match result {
            Ok(r) => r,
            Err(_) => Err(Error::Onnx {
                model: String::new(),
                message: "the model run panicked; see the log".into(),
            }),
        };
        match result {
            Ok(outputs) => {
                let mut outputs = outputs.into_iter();
                for job in jobs {
                    let mine: Vec<Output> = outputs.by_ref().take(job.items.len()).collect();
                    let _ = job.reply.send(Ok(mine));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for job in jobs {
                    let _ = job.reply.send(Err(Error::Onnx {
                        model: String::new(),
                        message: message.clone(),
                    }));
                }
            }
        }
    }
}

fn run_items(ctx: &mut BatchContext, items: &[&Encoded], want: Want) -> Result<Vec<Output>, Error> {
    let lengths: Vec<usize> = items.iter().map(|e| e.ids.len()).collect();
    let mut outputs: Vec<Option<Output>> = (0..items.len()).map(|_| None).collect();
    for batch in pool::plan_batches(&lengths, ctx.batch_size, ctx.max_batch_tokens) {
        let encoded: Vec<&Encoded> = batch.iter().map(|&i| items[i]).collect();
        let out = ctx.runner.run(&encoded)?;
        ctx.stats.batches.fetch_add(1, Ordering::Relaxed);
        ctx.stats
            .inputs
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let rows = batch.len();
        match (out.shape.as_slice(), want) {
            (&[_, seq, dim], Want::Pooled) => {
                ctx.stats.dimension.store(dim as u64, Ordering::Relaxed);
                let pooled = match ctx.pooling {
                    Pooling::Mean => pool::mean_pool(&out.data, &out.mask, rows, seq, dim),
                    Pooling::Cls => pool::cls_pool(&out.data, rows, seq, dim),
                };
                for (&i, mut v) in batch.iter().zip(pooled) {
                    if ctx.normalize {
                        pool::l2_normalize(&mut v);
                    }
                    outputs[i] = Some(Output::Vector(v));
                }
            }
            (&[_, seq, dim], Want::Tokens) => {
                for (r, &i) in batch.iter().enumerate() {
                    let n = items[i].ids.len();
                    let rows = (0..n)
                        .map(|t| out.data[(r * seq + t) * dim..(r * seq + t + 1) * dim].to_vec())
                        .collect();
                    outputs[i] = Some(Output::Rows(rows));
                }
            }
            (&[_, n], Want::Pooled | Want::Rows) => {
                if want == Want::Pooled {
                    ctx.stats.dimension.store(n as u64, Ordering::Relaxed);
                }
                for (r, &i) in batch.iter().enumerate() {
                    let mut v = out.data[r * n..(r + 1) * n].to_vec();
                    if want == Want::Pooled && ctx.normalize {
                        pool::l2_normalize(&mut v);
                    }
                    outputs[i] = Some(Output::Vector(v));
                }
            }
            (shape, _) => {
                return Err(Error::Onnx {
                    model: String::new(),
                    message: format!("unexpected output shape {shape:?}"),
                })
            }
        }
    }
    Ok(outputs
        .into_iter()
        .map(|o| o.expect("every item is in one batch"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for a model run that takes `each` per item and records its slices.
    fn slow(
        each: Duration,
        slices: &mut Vec<(usize, usize)>,
    ) -> impl FnMut(usize, &[u32]) -> Result<Vec<u32>, Error> + '_ {
        move |first, slice| {
            slices.push((first, slice.len()));
            std::thread::sleep(each * slice.len() as u32);
            Ok(slice.iter().map(|x| x * 10).collect())
        }
    }

    /// Regression: classify and count-tokens ran a whole call's inputs at once, whatever
    /// the deadline; they now share embed's slicing, which stops near the deadline.
    #[test]
    fn slices_stop_near_the_deadline() {
        let items: Vec<u32> = (0..1000).collect();
        let mut slices = Vec::new();
        let out = in_slices(
            &items,
            32,
            Instant::now() + Duration::from_millis(100),
            slow(Duration::from_millis(2), &mut slices),
        )
        .unwrap();
        assert!(out.is_none(), "1000 items of 2 ms cannot fit in 100 ms");
        // Counted in work, not in wall-clock time: 2 s of items were asked for and about
        // 100 ms of them may run; a noisy machine only makes that fewer.
        let ran: usize = slices.iter().map(|&(_, n)| n).sum();
        assert!(ran < items.len() / 2, "ran {ran} of {} items", items.len());
        assert_eq!(slices[0], (0, 4), "the first slice is small");
        assert!(slices.iter().all(|&(_, n)| n <= 32), "{slices:?}");
    }

    #[test]
    fn a_passed_deadline_does_no_work() {
        let mut slices = Vec::new();
        let out = in_slices(
            &[1, 2, 3],
            32,
            Instant::now(),
            slow(Duration::ZERO, &mut slices),
        )
        .unwrap();
        assert!(out.is_none());
        assert!(slices.is_empty(), "{slices:?}");
    }

    #[test]
    fn with_time_enough_every_item_runs_once_in_order() {
        let items: Vec<u32> = (0..100).collect();
        let mut slices = Vec::new();
        let out = in_slices(
            &items,
            16,
            Instant::now() + Duration::from_secs(600),
            slow(Duration::from_micros(10), &mut slices),
        )
        .unwrap()
        .expect("time enough");
        assert_eq!(out, items.iter().map(|x| x * 10).collect::<Vec<_>>());
        // Each slice starts where the last ended, so errors can name an item by its place.
        let mut next = 0;
        for &(first, n) in &slices {
            assert_eq!(first, next);
            assert!(n <= 16);
            next += n;
        }
        assert_eq!(next, 100);
    }

    #[test]
    fn an_error_of_a_slice_is_the_calls_error() {
        let items: Vec<u32> = (0..20).collect();
        let err = in_slices(
            &items,
            4,
            Instant::now() + Duration::from_secs(600),
            |first, slice: &[u32]| {
                if first + slice.len() > 10 {
                    Err(empty_text(first))
                } else {
                    Ok(slice.to_vec())
                }
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("text 8"), "{err}");
    }
}
