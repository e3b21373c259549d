//! The NSLog prefix that `defaults` puts before its error messages (to be written).
