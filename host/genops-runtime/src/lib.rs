//! The genops plugin runtime.
