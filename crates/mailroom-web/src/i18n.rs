//! The message catalogue placeholder, replaced by the console work.
