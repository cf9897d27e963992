//! The preparation step, as the flows carry it: a Create's usable clone asks its preparer
//! (`Place::ask_preparer`), and the preparer's report (`Prepared::report`) is recorded against
//! the one request whose token it carries. Only the token's hash is stored; an unknown, spent or
//! expired token changes nothing and is logged (without the token).

use super::advance::Stepped;
use super::place::Place;
use super::{Core, Invocation};
use crate::domain::events::LifecycleEvent;
use crate::domain::prepare::{new_token, token_hash, Preparation, Report, MAX_REASON};
use crate::domain::properties::CloneProperties;
use crate::domain::refresh::RefreshItem;
use crate::error::AwsError;
use crate::planner::action::Action;
use crate::state::{Phase, RequestItem, Work};
use std::sync::Arc;

impl Place {
    /// A new token, recorded as its hash (until `PrepareTimeout`, within the request's
    /// deadline), then `clone-prepare` with it, then noted as sent. An attempt that dies between
    /// leaves the event unsent: the next one makes a new token (the first is then unknown).
    pub(super) async fn ask_preparer(
        &self,
        item: &RequestItem,
        props: &CloneProperties,
    ) -> Result<Stepped, AwsError> {
        let Some(spec) = &props.prepare else {
            return Err(AwsError::permanent(
                "Prepare",
                "Unplanned",
                "no Prepare asked for",
            ));
        };
        let token = new_token();
        let now = self.core.now_secs();
        let until = (now + spec.timeout.as_secs() as i64).min(item.record.deadline);
        let mut record = item.record.clone();
        record.preparation = Some(Preparation {
            token_hash: token_hash(&token),
            until,
            event_sent: false,
            report: None,
            readers_set: false,
        });
        let Some(asked) = self.state.revise(item, &record).await? else {
            return Ok(Stepped::Wait(
                "the request's record changed meanwhile".into(),
            ));
        };
        let cluster = self
            .deeds
            .observe_cluster(&record.cluster_id)
            .await?
            .ok_or_else(|| {
                AwsError::transient("Prepare", "NotListed", "the clone is not listed")
            })?;
        let by = time::OffsetDateTime::from_unix_timestamp(until)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let event = LifecycleEvent::prepare(&cluster, "create", &token, by);
        self.applier.apply(&Action::Ask(event), None).await?;
        tracing::info!(clone = %record.cluster_id, until, "preparer asked (clone-prepare sent)");
        self.note_preparation(&asked, |p| p.event_sent = true).await
    }

    /// The preparer reported `ok` and the clone's readers are switched: noted, so that the next
    /// step answers.
    pub(super) async fn prepared_readers(&self, item: &RequestItem) -> Result<Stepped, AwsError> {
        self.note_preparation(item, |p| p.readers_set = true).await
    }

    async fn note_preparation(
        &self,
        item: &RequestItem,
        change: impl FnOnce(&mut Preparation),
    ) -> Result<Stepped, AwsError> {
        let mut record = item.record.clone();
        if let Some(p) = record.preparation.as_mut() {
            change(p);
        }
        match self.state.revise(item, &record).await? {
            Some(revised) => Ok(Stepped::Next(None, Some(Box::new(revised)))),
            None => Ok(Stepped::Wait(
                "the request's record changed meanwhile".into(),
            )),
        }
    }
}

/// What a preparer's report found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// Recorded against this clone's request.
    Recorded { cluster_id: String },
    /// No pending preparation holds the token (unknown, spent or expired): nothing changed.
    Refused(String),
}

/// Preparers' reports.
#[derive(Clone)]
pub struct Prepared {
    pub(super) core: Core,
    pub(super) state: Arc<dyn crate::ports::StateStore>,
    pub(super) refreshes: Arc<dyn crate::ports::Refreshes>,
    pub(super) rule: Arc<super::rule::Rule>,
}

impl Prepared {
    /// Records a preparer's report against the one pending request or refresh whose token it
    /// carries, once: the token is spent by the first report, and none is taken after its time.
    pub async fn report(
        &self,
        token: &str,
        ok: bool,
        reason: Option<&str>,
        inv: &Invocation,
    ) -> Result<Reported, AwsError> {
        let hash = token_hash(token);
        let reason = reason.map(|r| r.chars().take(MAX_REASON).collect::<String>());
        let report = Report { ok, reason };
        let recorded = match self.waiting(&hash).await? {
            Some(Waiting::Request(item)) => self.record_request(&item, report).await?,
            Some(Waiting::Refresh(item)) => self.record_refresh(&item, report).await?,
            None => {
                tracing::warn!("a preparation report with an unknown or spent token: ignored");
                return Ok(Reported::Refused("unknown or spent token".into()));
            }
        };
        if let Reported::Recorded { cluster_id } = &recorded {
            tracing::info!(clone = %cluster_id, ok, "preparation report recorded");
            self.rule.arm_follow_ups(inv).await?;
        }
        Ok(recorded)
    }

    async fn record_request(
        &self,
        item: &RequestItem,
        report: Report,
    ) -> Result<Reported, AwsError> {
        let mut record = item.record.clone();
        let Some(p) = record.preparation.as_mut() else {
            return Ok(Reported::Refused("unknown or spent token".into()));
        };
        if let Some(refused) = self.too_late(p.until, &record.cluster_id) {
            return Ok(refused);
        }
        p.report = Some(report);
        Ok(match self.state.revise(item, &record).await? {
            Some(_) => Reported::Recorded {
                cluster_id: record.cluster_id,
            },
            None => Reported::Refused("the request changed meanwhile; report again".into()),
        })
    }

    async fn record_refresh(
        &self,
        item: &RefreshItem,
        report: Report,
    ) -> Result<Reported, AwsError> {
        let mut next = item.clone();
        let Some(p) = next.preparation.as_mut() else {
            return Ok(Reported::Refused("unknown or spent token".into()));
        };
        if let Some(refused) = self.too_late(p.until, &item.cluster_id) {
            return Ok(refused);
        }
        p.report = Some(report);
        Ok(match self.refreshes.amend(&next).await? {
            Some(_) => Reported::Recorded {
                cluster_id: item.cluster_id.clone(),
            },
            None => Reported::Refused("the refresh changed meanwhile; report again".into()),
        })
    }

    fn too_late(&self, until: i64, cluster_id: &str) -> Option<Reported> {
        (self.core.now_secs() >= until).then(|| {
            tracing::warn!(clone = %cluster_id, "a preparation report after its time: ignored");
            Reported::Refused("the token has expired".into())
        })
    }

    /// The pending request or refresh waiting on a report with this token hash.
    async fn waiting(&self, hash: &str) -> Result<Option<Waiting>, AwsError> {
        let asked = |p: Option<&Preparation>| {
            p.is_some_and(|p| p.token_hash == hash && p.event_sent && p.report.is_none())
        };
        Ok(self.state.list().await?.into_iter().find_map(|w| match w {
            Work::Request(r)
                if r.phase == Phase::Pending && asked(r.record.preparation.as_ref()) =>
            {
                Some(Waiting::Request(r))
            }
            Work::Refresh(r) if asked(r.preparation.as_ref()) => Some(Waiting::Refresh(r)),
            _ => None,
        }))
    }
}

/// What waits on a preparer's report.
enum Waiting {
    Request(Box<RequestItem>),
    Refresh(Box<RefreshItem>),
}
