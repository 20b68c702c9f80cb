//! Plugins loaded as a kind: a [`TypedPlugin<K>`] is known to be of kind `K`, and its
//! [`TypedSession<K>`] offers that kind's call only, so callers check the kind once, at
//! load, rather than at every call.
//!
//! ```no_run
//! use genops_runtime::{Runtime, RuntimeConfig};
//!
//! let runtime = Runtime::new(RuntimeConfig::default(), None)?;
//! let chunker = runtime.load_chunker("plugins/chunker-fixed/dist/chunker-fixed".as_ref())?;
//! let mut session = chunker.session(&Default::default());
//! # let doc = genops_runtime::Document::default();
//! let chunks = session.split(&doc)?;
//! # Ok::<(), genops_runtime::Error>(())
//! ```

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::ops::Deref;
use std::path::Path;

use genops_manifest::Kind;

use crate::{
    CheckRequest, Chunk, Decision, Document, Error, Hit, Plugin, PluginError, PluginInfo, Query,
    Runtime, Sample, Score, Session,
};

mod sealed {
    pub trait Sealed {}
}

/// A plugin kind as a type.
pub trait PluginKind: sealed::Sealed {
    /// The kind.
    const KIND: Kind;
}

macro_rules! kinds {
    ($($name:ident => $kind:ident),*) => {$(
        #[doc = concat!("The ", stringify!($kind), " kind, as a type.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl sealed::Sealed for $name {}
        impl PluginKind for $name {
            const KIND: Kind = Kind::$kind;
        }
    )*};
}

kinds!(Chunker => Chunker, Retriever => Retriever, Evaluator => Evaluator, Guardrail => Guardrail);

/// A plugin known to be of kind `K`. Dereferences to the [`Plugin`].
#[derive(Debug, Clone)]
pub struct TypedPlugin<K: PluginKind> {
    plugin: Plugin,
    kind: PhantomData<K>,
}

impl<K: PluginKind> Deref for TypedPlugin<K> {
    type Target = Plugin;

    fn deref(&self) -> &Plugin {
        &self.plugin
    }
}

impl<K: PluginKind> TypedPlugin<K> {
    /// The untyped plugin.
    pub fn into_plugin(self) -> Plugin {
        self.plugin
    }

    /// A session of this kind: the manifest's config defaults overlaid with `overrides`.
    pub fn session(&self, overrides: &BTreeMap<String, String>) -> TypedSession<K> {
        TypedSession {
            session: self.plugin.session(overrides),
            kind: PhantomData,
        }
    }
}

impl Plugin {
    /// This plugin as kind `K`, or [`Error::WrongKind`] naming what was expected and what
    /// the component is.
    pub fn into_typed<K: PluginKind>(self) -> Result<TypedPlugin<K>, Error> {
        if self.kind() != K::KIND {
            return Err(Error::WrongKind {
                source_name: self.id().to_string(),
                expected: K::KIND,
                expected_by: "the caller",
                found: self.kind(),
            });
        }
        Ok(TypedPlugin {
            plugin: self,
            kind: PhantomData,
        })
    }
}

impl Runtime {
    /// Loads a plugin folder as kind `K` ([`Runtime::load_dir`], then the kind check).
    pub fn load_typed<K: PluginKind>(&self, dir: &Path) -> Result<TypedPlugin<K>, Error> {
        self.load_dir(dir)?.into_typed()
    }

    /// Loads a plugin folder that must hold a chunker.
    pub fn load_chunker(&self, dir: &Path) -> Result<TypedPlugin<Chunker>, Error> {
        self.load_typed(dir)
    }

    /// Loads a plugin folder that must hold a retriever.
    pub fn load_retriever(&self, dir: &Path) -> Result<TypedPlugin<Retriever>, Error> {
        self.load_typed(dir)
    }

    /// Loads a plugin folder that must hold an evaluator.
    pub fn load_evaluator(&self, dir: &Path) -> Result<TypedPlugin<Evaluator>, Error> {
        self.load_typed(dir)
    }

    /// Loads a plugin folder that must hold a guardrail.
    pub fn load_guardrail(&self, dir: &Path) -> Result<TypedPlugin<Guardrail>, Error> {
        self.load_typed(dir)
    }
}

/// A session of a plugin of kind `K`, offering that kind's call.
pub struct TypedSession<K: PluginKind> {
    session: Session,
    kind: PhantomData<K>,
}

impl<K: PluginKind> TypedSession<K> {
    /// The untyped session.
    pub fn into_session(self) -> Session {
        self.session
    }

    /// Asks the plugin to describe itself.
    pub fn describe(&mut self) -> Result<PluginInfo, Error> {
        self.session.describe()
    }

    /// Creates the instance now rather than on the first call.
    pub fn instantiate(&mut self) -> Result<(), Error> {
        self.session.instantiate()
    }
}

// The untyped calls check the kind again; with the kind known here that check always
// passes, and callers no longer need their own.
impl TypedSession<Chunker> {
    /// Splits a document ([`Session::split`]).
    pub fn split(&mut self, doc: &Document) -> Result<Vec<Chunk>, Error> {
        self.session.split(doc)
    }
}

impl TypedSession<Retriever> {
    /// Runs the retriever ([`Session::retrieve`]).
    pub fn retrieve(&mut self, query: &Query) -> Result<Vec<Hit>, Error> {
        self.session.retrieve(query)
    }
}

impl TypedSession<Evaluator> {
    /// Scores a batch of samples ([`Session::evaluate`]).
    pub fn evaluate(
        &mut self,
        samples: &[Sample],
    ) -> Result<Vec<Result<Score, PluginError>>, Error> {
        self.session.evaluate(samples)
    }
}

impl TypedSession<Guardrail> {
    /// Checks a text ([`Session::check`]).
    pub fn check(&mut self, request: &CheckRequest) -> Result<Decision, Error> {
        self.session.check(request)
    }
}
