//! Walks every tenant's custody chain.

use crate::{App, AppResult};
use mailroom_domain::custody::{ChainBreak, ChainVerifier};

/// The result of checking one tenant's chain.
#[derive(Debug, Clone)]
pub struct TenantVerdict {
    pub tenant: String,
    pub events: i64,
    pub broken: Option<ChainBreak>,
}

const PAGE: i64 = 5000;

impl App {
    /// Verifies every tenant's custody chain from its first event to its recorded head.
    pub async fn verify_custody(&self) -> AppResult<Vec<TenantVerdict>> {
        let mut out = Vec::new();
        for t in self.store.list_tenants().await? {
            let (head_seq, head_hash) = self.store.custody_head(t.id).await?;
            let mut v = ChainVerifier::default();
            let mut after = 0;
            let mut broken = None;
            'walk: loop {
                let page = self.store.custody_events(t.id, after, PAGE).await?;
                if page.is_empty() {
                    break;
                }
                for ev in &page {
                    if let Err(b) = v.push(ev) {
                        broken = Some(b);
                        break 'walk;
                    }
                    after = ev.seq;
                }
            }
            let events = match (&broken, v.finish(head_seq, &head_hash)) {
                (Some(_), _) => after,
                (None, Ok(n)) => n,
                (None, Err(b)) => {
                    broken = Some(b);
                    after
                }
            };
            out.push(TenantVerdict { tenant: t.slug, events, broken });
        }
        Ok(out)
    }
}
