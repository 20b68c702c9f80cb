//! Retriever, evaluator and guardrail plugins built with the Rust SDK, called through the
//! host, and the host's checks of what they return.

use genops_runtime::{
    CheckRequest, Error, Filter, FilterOp, PluginError, Query, Sample, Stage, Verdict,
};
use genops_tests::{doc, load, sets};

const CORPUS: &str = "a1=the cat sat on the mat|a2=a dog and a cat|b1=nothing here";

fn query(text: &str, k: u32, filters: Vec<Filter>) -> Query {
    Query {
        text: text.into(),
        k,
        filters,
        index: "test".into(),
    }
}

#[test]
fn retriever_ranks_best_first_and_honours_k_and_filters() {
    let plugin = load("retriever-keyword");
    let mut session = plugin.session(&sets(&[("corpus", CORPUS)]));
    let hits = session
        .retrieve(&query("the cat on a mat", 5, vec![]))
        .unwrap();
    let ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2"]);
    assert!(hits[0].score > hits[1].score);
    assert_eq!(session.retrieve(&query("cat", 1, vec![])).unwrap().len(), 1);
    let only_a2 = session
        .retrieve(&query(
            "cat",
            5,
            vec![Filter {
                field: "id".into(),
                op: FilterOp::Eq,
                value: "a2".into(),
            }],
        ))
        .unwrap();
    assert_eq!(only_a2[0].chunk_id, "a2");
    match session.retrieve(&query(
        "cat",
        5,
        vec![Filter {
            field: "year".into(),
            op: FilterOp::Gt,
            value: "2020".into(),
        }],
    )) {
        Err(Error::Plugin {
            error: PluginError::Unsupported(m),
            ..
        }) => assert!(m.contains("year"), "{m}"),
        other => panic!("expected unsupported, got {other:?}"),
    }
}

#[test]
fn retriever_contract_breaches_are_caught_by_the_host() {
    let plugin = load("retriever-keyword");
    for (mode, k, expected) in [("too-many", 1, "for k = 1"), ("unsorted", 5, "best first")] {
        let mut session = plugin.session(&sets(&[("corpus", CORPUS), ("mode", mode)]));
        match session.retrieve(&query("the cat on a mat", k, vec![])) {
            Err(Error::BadOutput { message, .. }) => {
                assert!(message.contains(expected), "{mode}: {message}")
            }
            other => panic!("{mode}: expected bad output, got {other:?}"),
        }
    }
}

#[test]
fn evaluator_scores_a_batch_with_per_sample_errors() {
    let plugin = load("evaluator-overlap");
    let samples = vec![
        Sample {
            id: "s1".into(),
            answer: "Paris is the capital".into(),
            reference: Some("the capital is Paris".into()),
            ..Sample::default()
        },
        Sample {
            id: "s2".into(),
            answer: "no idea".into(),
            reference: None,
            ..Sample::default()
        },
        Sample {
            id: "s3".into(),
            answer: "Lyon".into(),
            reference: Some("Paris".into()),
            ..Sample::default()
        },
    ];
    let results = plugin.session(&sets(&[])).evaluate(&samples).unwrap();
    assert_eq!(results.len(), 3);
    let s1 = results[0].as_ref().unwrap();
    assert_eq!(s1.metrics[0].name, "token_f1");
    assert!((s1.metrics[0].value - 1.0).abs() < 1e-9);
    assert_eq!(
        results[1],
        Err(PluginError::InvalidInput(
            "sample s2 has no reference".into()
        ))
    );
    assert_eq!(results[2].as_ref().unwrap().metrics[0].value, 0.0);
    assert!(plugin.session(&sets(&[])).evaluate(&[]).unwrap().is_empty());
}

#[test]
fn guardrail_redacts_blocks_or_allows_with_findings() {
    let plugin = load("guardrail-email");
    let text = "Write to anna.müller@example.org or bob@test.io.";
    let request = CheckRequest {
        stage: Stage::Output,
        text: text.into(),
        context: vec![],
        metadata: vec![],
    };
    let redacted = plugin.session(&sets(&[])).check(&request).unwrap();
    assert_eq!(
        redacted.verdict,
        Verdict::Rewrite("Write to [email] or [email].".into())
    );
    assert_eq!(redacted.findings.len(), 2);
    let (s, e) = redacted.findings[0].span.unwrap();
    assert_eq!(&text[s..e], "anna.müller@example.org");

    let blocked = plugin
        .session(&sets(&[("action", "block")]))
        .check(&request)
        .unwrap();
    assert!(matches!(blocked.verdict, Verdict::Block(ref r) if r.contains("2 e-mail")));

    let clean = CheckRequest {
        text: "nothing to see".into(),
        ..request.clone()
    };
    let allowed = plugin.session(&sets(&[])).check(&clean).unwrap();
    assert_eq!(allowed.verdict, Verdict::Allow);
    assert!(allowed.findings.is_empty());

    match plugin
        .session(&sets(&[("action", "shout")]))
        .check(&request)
    {
        Err(Error::Plugin {
            error: PluginError::InvalidConfig(m),
            ..
        }) => assert!(m.contains("shout")),
        other => panic!("expected invalid config, got {other:?}"),
    }
}

#[test]
fn each_kind_refuses_the_other_kinds_calls() {
    let guardrail = load("guardrail-email");
    let err = guardrail
        .session(&sets(&[]))
        .retrieve(&query("x", 1, vec![]))
        .unwrap_err();
    assert!(matches!(err, Error::WrongKind { .. }), "{err}");
    let retriever = load("retriever-keyword");
    assert!(matches!(
        retriever.session(&sets(&[])).split(&doc("x")),
        Err(Error::WrongKind { .. })
    ));
    assert!(matches!(
        retriever.session(&sets(&[])).evaluate(&[]),
        Err(Error::WrongKind { .. })
    ));
}

#[test]
fn loading_by_kind_refuses_another_kind_naming_both() {
    let runtime = genops_tests::runtime();
    let chunker = runtime
        .load_chunker(&genops_tests::plugin_dir("chunker-hostile"))
        .expect("a chunker loads as a chunker");
    let chunks = chunker
        .session(&genops_tests::sets(&[]))
        .split(&genops_tests::doc("some text"))
        .unwrap();
    assert_eq!(chunks.len(), 1);
    let err = runtime
        .load_chunker(&genops_tests::plugin_dir("retriever-keyword"))
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("is a retriever plugin") && message.contains("says chunker"),
        "{message}"
    );
    match err {
        genops_runtime::Error::WrongKind {
            expected, found, ..
        } => {
            assert_eq!(expected, genops_runtime::Kind::Chunker);
            assert_eq!(found, genops_runtime::Kind::Retriever);
        }
        other => panic!("expected WrongKind, got {other}"),
    }
    assert!(runtime
        .load_guardrail(&genops_tests::plugin_dir("guardrail-email"))
        .is_ok());
}
