//! A refresh of a clone with `Prepare`: nobody opens the new clone with the clone's password
//! before its preparer reported. The new clone first gets a password of its own, in a secret the
//! preparers alone may read; `clone-prepare` (reason `refresh`) goes out with a single-use token;
//! only after `ok` does it get the clone's password, lose its own secret, and cut over. A failed
//! or late report gives the refresh up (the clone keeps serving).

use super::{Refresh, Stepped};
use crate::domain::events::LifecycleEvent;
use crate::domain::prepare::{new_token, token_hash, Preparation};
use crate::domain::properties::CloneProperties;
use crate::domain::refresh::RefreshItem;
use crate::domain::{tags, Cluster, Deed, Tags};
use crate::error::AwsError;
use crate::planner::action::{Action, KeyChoice, PasswordPlan, Tagged};

impl Refresh {
    /// `None` once the preparer reported `ok` (or no preparation is asked for); otherwise the
    /// step that waits for it.
    pub(super) async fn prepare_fresh(
        &self,
        item: &mut RefreshItem,
        props: &CloneProperties,
        fresh: &Cluster,
    ) -> Result<Option<Stepped>, AwsError> {
        let Some(spec) = &props.prepare else {
            return Ok(None);
        };
        if fresh.secret_arn().is_none() {
            let plan = self.preparer_plan(item, props, fresh, &spec.preparers);
            let action = Action::SetPassword {
                cluster: Box::new(fresh.clone()),
                plan,
            };
            self.applier.apply(&action, None).await?;
            return Ok(Some(Stepped::Wait(
                "the new clone gets a password for its preparer".into(),
            )));
        }
        if fresh.password_pending || !fresh.is_available() {
            return Ok(Some(Stepped::Wait(
                "the preparer's password is not yet in force".into(),
            )));
        }
        let Some(p) = item.preparation.clone().filter(|p| p.event_sent) else {
            return self.ask_preparer(item, spec.timeout, fresh).await.map(Some);
        };
        match &p.report {
            None if self.core.now_secs() >= p.until => Err(AwsError::permanent(
                "Prepare",
                "TimedOut",
                "the preparer did not report within PrepareTimeout",
            )),
            None => Ok(Some(Stepped::Wait(
                "the new clone waits for its preparer".into(),
            ))),
            Some(r) if !r.ok => Err(AwsError::permanent(
                "Prepare",
                "PreparerFailed",
                format!(
                    "the preparer reported failure: {}",
                    r.reason.as_deref().unwrap_or("no reason given")
                ),
            )),
            Some(_) => Ok(None),
        }
    }

    /// A secret for the new clone alone, readable by the preparers: the clone's own secret stays
    /// closed to them, and the clone's password stays off the unprepared data.
    fn preparer_plan(
        &self,
        item: &RefreshItem,
        props: &CloneProperties,
        fresh: &Cluster,
        preparers: &[String],
    ) -> PasswordPlan {
        let policy = &self.core.policy;
        let prefix = props
            .secret_prefix
            .clone()
            .unwrap_or_else(|| policy.default_secret_prefix.clone());
        let key = match (&props.kms_key_id, &policy.default_secret_key) {
            (Some(k), _) => KeyChoice::Given(k.clone()),
            (None, Some(k)) => KeyChoice::StackDefault(k.clone()),
            (None, None) => KeyChoice::AwsManaged,
        };
        PasswordPlan {
            secret_name: format!("{prefix}{}-prepare", fresh.id),
            request_id: item.request_id(),
            key,
            readers: preparers.to_vec(),
            tags: tags::user_tags(&props.tags),
        }
    }

    /// A new token, recorded as its hash, then `clone-prepare`, then noted as sent.
    async fn ask_preparer(
        &self,
        item: &mut RefreshItem,
        timeout: std::time::Duration,
        fresh: &Cluster,
    ) -> Result<Stepped, AwsError> {
        let token = new_token();
        let until = (self.core.now_secs() + timeout.as_secs() as i64).min(item.deadline);
        let preparation = Preparation {
            token_hash: token_hash(&token),
            until,
            event_sent: false,
            report: None,
            readers_set: false,
        };
        let next = RefreshItem {
            preparation: Some(preparation.clone()),
            ..item.clone()
        };
        self.save(item, next).await?;
        let by = time::OffsetDateTime::from_unix_timestamp(until)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let event = LifecycleEvent::prepare(fresh, "refresh", &token, by);
        self.applier.apply(&Action::Ask(event), None).await?;
        tracing::info!(clone = %item.cluster_id, until, "preparer of the refresh asked (clone-prepare sent)");
        let sent = Preparation {
            event_sent: true,
            ..preparation
        };
        let next = RefreshItem {
            preparation: Some(sent),
            ..item.clone()
        };
        self.save(item, next).await?;
        Ok(Stepped::Wait("the new clone waits for its preparer".into()))
    }

    /// Once prepared and given the clone's password: the preparers' secret goes, and the new
    /// clone's tags name the clone's secret again (the deed of the clone is what counts).
    pub(super) async fn close_preparation(
        &self,
        fresh: &Cluster,
        clone: &Deed,
        clone_tags: &Tags,
    ) -> Result<(), AwsError> {
        if fresh.secret_arn().is_some() {
            self.applier
                .apply(
                    &Action::DropCredentials {
                        cluster: Box::new(fresh.clone()),
                    },
                    None,
                )
                .await?;
        }
        let marks: Tags = clone_tags
            .iter()
            .filter(|(k, _)| {
                k.starts_with("aurora-clone-manager:password") || *k == tags::CREATED_KEY
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !marks.is_empty() && clone.secret.is_some() {
            let retag = Action::Retag {
                targets: vec![Tagged::Rds(fresh.arn.clone())],
                add: marks,
                remove: vec![],
            };
            self.applier.apply(&retag, None).await?;
        }
        Ok(())
    }
}
