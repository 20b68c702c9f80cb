//! The calls of the retriever, evaluator and guardrail kinds, with the host's checks of what
//! each returns. The chunker's call lives in `plugin.rs`.

use genops_manifest::Kind;

use crate::bindings::{evaluator as ev, guardrail as gr, retriever as rt};
use crate::plugin::{plugin_error, Bound};
use crate::{Error, PluginError, Session};

// Query filters are the index's own: what a caller passes a retriever is what the index
// evaluates, with one parser (`Filter::parse`) for both.
pub use genops_search::{Filter, FilterOp};

/// A retrieval query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The question or search text.
    pub text: String,
    /// The most hits wanted.
    pub k: u32,
    /// Conditions every hit must meet.
    pub filters: Vec<Filter>,
    /// The index to search.
    pub index: String,
}

/// One ranked retrieval result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    /// The chunk's id in the index.
    pub chunk_id: String,
    /// Higher is better.
    pub score: f64,
    /// How the retriever found it.
    pub metadata: Vec<(String, String)>,
}

/// A question/answer sample to score.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// The sample's id.
    pub id: String,
    /// The question.
    pub question: String,
    /// The generated answer.
    pub answer: String,
    /// The retrieved contexts, in rank order.
    pub contexts: Vec<String>,
    /// The expected answer, if the dataset has one.
    pub reference: Option<String>,
    /// Sample metadata.
    pub metadata: Vec<(String, String)>,
}

/// One named metric value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Metric {
    /// For example `faithfulness`.
    pub name: String,
    /// The value; always finite.
    pub value: f64,
}

/// The scores of one sample.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Score {
    /// Named metrics.
    pub metrics: Vec<Metric>,
    /// Why, for people reading a run.
    pub explanation: Option<String>,
}

/// Where in the query flow a guardrail check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The user's input.
    Input,
    /// The model's output.
    Output,
}

/// What a guardrail is asked to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    /// Input or output.
    pub stage: Stage,
    /// The text to check.
    pub text: String,
    /// Surrounding material: contexts, or the question for an output check.
    pub context: Vec<String>,
    /// Request metadata.
    pub metadata: Vec<(String, String)>,
}

/// Something a guardrail noticed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// For example `pii.email`.
    pub category: String,
    /// What it is.
    pub message: String,
    /// The byte span in the checked text, on character boundaries.
    pub span: Option<(usize, usize)>,
    /// Confidence in [0, 1].
    pub score: Option<f64>,
}

/// A guardrail's verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Verdict {
    /// Let the text through.
    Allow,
    /// Stop the request, with the reason shown to the caller.
    Block(String),
    /// Let this text through instead.
    Rewrite(String),
}

/// A guardrail's decision.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// What it noticed.
    pub findings: Vec<Finding>,
}

impl Session {
    fn bad_output(&self, message: String) -> Error {
        Error::BadOutput {
            plugin: Box::new(self.plugin().id().clone()),
            message,
        }
    }

    fn plugin_failed(&self, error: PluginError) -> Error {
        Error::Plugin {
            plugin: Box::new(self.plugin().id().clone()),
            error,
        }
    }

    /// Runs a retriever. The host checks that it returns at most `k` hits, with finite
    /// scores, best first.
    pub fn retrieve(&mut self, query: &Query) -> Result<Vec<Hit>, Error> {
        if self.plugin().kind() != Kind::Retriever {
            return Err(self.wrong_kind(Kind::Retriever));
        }
        let wit_query = rt::exports::genops::plugin::retriever::Query {
            text: query.text.clone(),
            k: query.k,
            filters: query
                .filters
                .iter()
                .map(|f| rt::exports::genops::plugin::retriever::Filter {
                    field: f.field.clone(),
                    op: filter_op(f.op),
                    value: f.value.clone(),
                })
                .collect(),
            index: query.index.clone(),
        };
        let result = self.call(|store, bound| match bound {
            Bound::Retriever(b) => b.genops_plugin_retriever().call_retrieve(store, &wit_query),
            _ => unreachable!("kind checked above"),
        })?;
        let hits = result.map_err(|e| self.plugin_failed(plugin_error(e)))?;
        if hits.len() > query.k as usize {
            return Err(self.bad_output(format!(
                "returned {} hits for k = {}",
                hits.len(),
                query.k
            )));
        }
        for (i, pair) in hits.windows(2).enumerate() {
            if pair[1].score > pair[0].score {
                return Err(self.bad_output(format!(
                    "hit {} scores {} above hit {} ({}); hits must come best first",
                    i + 1,
                    pair[1].score,
                    i,
                    pair[0].score
                )));
            }
        }
        if let Some((i, hit)) = hits.iter().enumerate().find(|(_, h)| !h.score.is_finite()) {
            return Err(self.bad_output(format!("hit {i} has the score {}", hit.score)));
        }
        Ok(hits
            .into_iter()
            .map(|h| Hit {
                chunk_id: h.chunk_id,
                score: h.score,
                metadata: h.metadata,
            })
            .collect())
    }

    /// Runs an evaluator on a batch. The result has one entry per sample, in order: the
    /// sample's scores, or the plugin's error for that sample. The host checks the count and
    /// that every metric value is finite.
    pub fn evaluate(
        &mut self,
        samples: &[Sample],
    ) -> Result<Vec<Result<Score, PluginError>>, Error> {
        if self.plugin().kind() != Kind::Evaluator {
            return Err(self.wrong_kind(Kind::Evaluator));
        }
        let wit_samples: Vec<_> = samples
            .iter()
            .map(|s| ev::exports::genops::plugin::evaluator::Sample {
                id: s.id.clone(),
                question: s.question.clone(),
                answer: s.answer.clone(),
                contexts: s.contexts.clone(),
                reference: s.reference.clone(),
                metadata: s.metadata.clone(),
            })
            .collect();
        let result = self.call(|store, bound| match bound {
            Bound::Evaluator(b) => b
                .genops_plugin_evaluator()
                .call_evaluate(store, &wit_samples),
            _ => unreachable!("kind checked above"),
        })?;
        let scores = result.map_err(|e| self.plugin_failed(plugin_error(e)))?;
        if scores.len() != samples.len() {
            return Err(self.bad_output(format!(
                "returned {} results for {} samples",
                scores.len(),
                samples.len()
            )));
        }
        let mut out = Vec::with_capacity(scores.len());
        for (i, score) in scores.into_iter().enumerate() {
            out.push(match score {
                Ok(score) => {
                    if let Some(m) = score.metrics.iter().find(|m| !m.value.is_finite()) {
                        return Err(self.bad_output(format!(
                            "sample {i} has metric `{}` = {}",
                            m.name, m.value
                        )));
                    }
                    Ok(Score {
                        metrics: score
                            .metrics
                            .into_iter()
                            .map(|m| Metric {
                                name: m.name,
                                value: m.value,
                            })
                            .collect(),
                        explanation: score.explanation,
                    })
                }
                Err(e) => Err(plugin_error(e)),
            });
        }
        Ok(out)
    }

    /// Runs a guardrail. The host checks that every finding's span lies within the text on
    /// character boundaries and that scores lie in [0, 1].
    pub fn check(&mut self, request: &CheckRequest) -> Result<Decision, Error> {
        if self.plugin().kind() != Kind::Guardrail {
            return Err(self.wrong_kind(Kind::Guardrail));
        }
        let wit_request = gr::exports::genops::plugin::guardrail::CheckRequest {
            stage: match request.stage {
                Stage::Input => gr::exports::genops::plugin::guardrail::Stage::Input,
                Stage::Output => gr::exports::genops::plugin::guardrail::Stage::Output,
            },
            text: request.text.clone(),
            context: request.context.clone(),
            metadata: request.metadata.clone(),
        };
        let result = self.call(|store, bound| match bound {
            Bound::Guardrail(b) => b.genops_plugin_guardrail().call_check(store, &wit_request),
            _ => unreachable!("kind checked above"),
        })?;
        let decision = result.map_err(|e| self.plugin_failed(plugin_error(e)))?;
        let text = &request.text;
        let mut findings = Vec::with_capacity(decision.findings.len());
        for (i, f) in decision.findings.into_iter().enumerate() {
            let span = match f.span {
                Some((start, end)) => {
                    let ok = start <= end
                        && end <= text.len() as u64
                        && text.is_char_boundary(start as usize)
                        && text.is_char_boundary(end as usize);
                    if !ok {
                        return Err(self.bad_output(format!(
                            "finding {i} has the span {start}..{end}, which is not a range of whole characters in the {}-byte text",
                            text.len()
                        )));
                    }
                    Some((start as usize, end as usize))
                }
                None => None,
            };
            if let Some(score) = f.score {
                if !(0.0..=1.0).contains(&score) {
                    return Err(self.bad_output(format!(
                        "finding {i} has the score {score}; scores lie in [0, 1]"
                    )));
                }
            }
            findings.push(Finding {
                category: f.category,
                message: f.message,
                span,
                score: f.score,
            });
        }
        use gr::exports::genops::plugin::guardrail::Verdict as W;
        let verdict = match decision.verdict {
            W::Allow => Verdict::Allow,
            W::Block(reason) => Verdict::Block(reason),
            W::Rewrite(text) => Verdict::Rewrite(text),
        };
        Ok(Decision { verdict, findings })
    }
}

fn filter_op(op: FilterOp) -> rt::exports::genops::plugin::retriever::FilterOp {
    use rt::exports::genops::plugin::retriever::FilterOp as W;
    match op {
        FilterOp::Eq => W::Eq,
        FilterOp::NotEq => W::NotEq,
        FilterOp::Lt => W::Lt,
        FilterOp::Lte => W::Lte,
        FilterOp::Gt => W::Gt,
        FilterOp::Gte => W::Gte,
        FilterOp::Prefix => W::Prefix,
    }
}
