//! What an emulated program did: its exit status and the bytes it printed, as a real
//! process reports them. A non-zero status is an answer (`defaults read` exits 1 for a
//! missing key), not an error of the emulator.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(stdout: impl Into<String>) -> Self {
        Output {
            status: 0,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    pub fn failed(status: i32, stderr: impl Into<String>) -> Self {
        Output {
            status,
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    pub fn success(&self) -> bool {
        self.status == 0
    }
}
