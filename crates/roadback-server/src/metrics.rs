//! `/metrics` in the Prometheus text format: requests by status class, GraphQL operations and
//! errors by code. A handful of counters does not justify a metrics framework.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: [AtomicU64; 5],
    operations: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    /// Counts an HTTP response by its status class (1xx..5xx).
    pub fn count_response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[class].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a GraphQL operation executed.
    pub fn count_operation(&self) {
        self.operations.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a GraphQL error by its code.
    pub fn count_error(&self, code: &str) {
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *errors.entry(code.to_string()).or_default() += 1;
    }

    /// The counters in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP roadback_http_responses_total HTTP responses by status class.\n");
        out.push_str("# TYPE roadback_http_responses_total counter\n");
        for (i, counter) in self.requests.iter().enumerate() {
            out.push_str(&format!(
                "roadback_http_responses_total{{class=\"{}xx\"}} {}\n",
                i + 1,
                counter.load(Ordering::Relaxed)
            ));
        }
        out.push_str("# HELP roadback_graphql_operations_total GraphQL operations executed.\n");
        out.push_str("# TYPE roadback_graphql_operations_total counter\n");
        out.push_str(&format!(
            "roadback_graphql_operations_total {}\n",
            self.operations.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP roadback_graphql_errors_total GraphQL errors by code.\n");
        out.push_str("# TYPE roadback_graphql_errors_total counter\n");
        let errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        for (code, n) in errors.iter() {
            out.push_str(&format!(
                "roadback_graphql_errors_total{{code=\"{code}\"}} {n}\n"
            ));
        }
        out
    }
}
