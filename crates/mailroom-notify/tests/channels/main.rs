//! The channels against real peers, in one test binary: an HTTP receiver on 127.0.0.1
//! (webhooks, robots, SMS) and a real SMTP server process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http_channels;
mod smtp;
