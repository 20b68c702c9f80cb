//! Tokenisation with the model's own `tokenizer.json`.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::Error;

/// One tokenised input, special tokens included, cut to the model's maximum length.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Token ids.
    pub ids: Vec<i64>,
    /// Segment ids: 0 for the first text, 1 for the pair.
    pub type_ids: Vec<i64>,
    /// Whether the input was longer than the model's maximum length.
    pub truncated: bool,
}

/// A model's tokenizer, with the padding and truncation of its file replaced by genops'
/// own: files exported for fixed-shape inference often pad every input to 128 tokens, which
/// would waste most of a batch on padding and silently cut longer inputs.
pub struct TextTokenizer {
    model: String,
    /// Truncates at the model's maximum length.
    cutting: Tokenizer,
    /// Never truncates, for counting.
    counting: Tokenizer,
    max_length: usize,
}

impl TextTokenizer {
    /// Loads `tokenizer.json`.
    pub fn load(path: &Path, model: &str, max_length: usize) -> Result<Self, Error> {
        let failed = |message: String| Error::Tokenizer {
            model: model.to_string(),
            message,
        };
        let mut counting = Tokenizer::from_file(path).map_err(|e| {
            failed(format!(
                "cannot load {} ({e}); it must be a tokenizer.json in the Hugging Face tokenizers format",
                path.display()
            ))
        })?;
        counting.with_padding(None);
        counting
            .with_truncation(None)
            .map_err(|e| failed(e.to_string()))?;
        let mut cutting = counting.clone();
        // Longest-first cuts the longer text of a pair first, as transformers does; special
        // tokens are added after the cut, so a cut input still ends with its [SEP].
        cutting
            .with_truncation(Some(TruncationParams {
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| failed(e.to_string()))?;
        Ok(Self {
            model: model.to_string(),
            cutting,
            counting,
            max_length,
        })
    }

    /// The model's maximum length in tokens.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Tokenises one text, or a pair, cut to the maximum length.
    pub fn encode(&self, text: &str, pair: Option<&str>) -> Result<Encoded, Error> {
        let encoding = match pair {
            Some(pair) => self.cutting.encode((text, pair), true),
            None => self.cutting.encode(text, true),
        }
        .map_err(|e| Error::Tokenizer {
            model: self.model.clone(),
            message: e.to_string(),
        })?;
        Ok(Encoded {
            ids: encoding.get_ids().iter().map(|&i| i64::from(i)).collect(),
            type_ids: encoding
                .get_type_ids()
                .iter()
                .map(|&i| i64::from(i))
                .collect(),
            truncated: !encoding.get_overflowing().is_empty(),
        })
    }

    /// Tokenises one text and returns its tokens, byte offsets and special-token flags, cut
    /// to the maximum length.
    pub fn tokens(&self, text: &str) -> Result<(Encoded, Vec<TokenInfo>), Error> {
        let encoding = self
            .cutting
            .encode(text, true)
            .map_err(|e| Error::Tokenizer {
                model: self.model.clone(),
                message: e.to_string(),
            })?;
        let info = encoding
            .get_tokens()
            .iter()
            .zip(encoding.get_offsets())
            .zip(encoding.get_special_tokens_mask())
            .map(|((token, &(start, end)), &special)| TokenInfo {
                token: token.clone(),
                start: start as u32,
                end: end as u32,
                special: special == 1,
            })
            .collect();
        let encoded = Encoded {
            ids: encoding.get_ids().iter().map(|&i| i64::from(i)).collect(),
            type_ids: encoding
                .get_type_ids()
                .iter()
                .map(|&i| i64::from(i))
                .collect(),
            truncated: !encoding.get_overflowing().is_empty(),
        };
        Ok((encoded, info))
    }

    /// How many tokens the model would see without truncation, special tokens included.
    pub fn count(&self, text: &str) -> Result<u32, Error> {
        let encoding = self
            .counting
            .encode(text, true)
            .map_err(|e| Error::Tokenizer {
                model: self.model.clone(),
                message: e.to_string(),
            })?;
        Ok(encoding.len() as u32)
    }
}

/// What a token is, for token-level embeddings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenInfo {
    /// The token as the vocabulary spells it (`##ing` for a word piece).
    pub token: String,
    /// Byte offset in the text where the token starts (0 for special tokens).
    pub start: u32,
    /// Byte offset where it ends.
    pub end: u32,
    /// Whether it is a special token (`[CLS]`, `[SEP]`).
    pub special: bool,
}
