//! Setting a clone's own master password, and removing its secret and key. The secret (and a
//! key made for the clone) exist only once the clone does; each step is idempotent, so a retry
//! after a failure between steps reuses what the earlier attempt made.

use super::Manager;
use crate::domain::{tags, Cluster, Tags};
use crate::error::AwsError;
use crate::password::{generate, key_policy, secret_json, secret_policy};
use crate::planner::action::Removal;
use crate::planner::credentials::{account_and_region, secret_name, KeyChoice, PasswordPlan};
use crate::ports::{Created, SecretRef};

/// The `created-key` mark of a key about to be made, before its id is known.
const PENDING_KEY: &str = "pending:";

impl Manager {
    /// Gives the clone its own master password. The secret is named on the clone before it
    /// exists (removing the clone removes it, whatever fails next); the password set on RDS is
    /// always the one stored in the secret, read back when an earlier attempt made it.
    pub(super) async fn set_password(
        &self,
        cluster: &Cluster,
        plan: &PasswordPlan,
    ) -> Result<(), AwsError> {
        let key = self.secret_key(cluster, plan).await?;
        let recorded = cluster
            .tags
            .get(tags::PASSWORD_SECRET)
            .map(|s| secret_name(s));
        if recorded.as_deref() != Some(plan.secret_name.as_str()) {
            let mark: Tags = [(tags::PASSWORD_SECRET.to_string(), plan.secret_name.clone())].into();
            self.ports.rds.add_tags(&cluster.arn, &mark).await?;
        }
        let (secret, password) = self.store_password(cluster, plan, key.as_deref()).await?;
        if let Some(policy) = self.secret_policy(&plan.readers) {
            self.ports
                .secrets
                .set_readers(&secret.arn, Some(&policy))
                .await?;
        }
        let mut marks = Tags::new();
        marks.insert(tags::PASSWORD_SECRET.into(), secret.arn.clone());
        marks.insert(
            tags::PASSWORD_KEY.into(),
            key.unwrap_or_else(|| "aws/secretsmanager".into()),
        );
        self.ports.rds.add_tags(&cluster.arn, &marks).await?;
        tracing::info!(clone = %cluster.id, secret = %secret.name, "setting the clone's own master password");
        self.ports
            .rds
            .set_master_password(&cluster.id, &password)
            .await?;
        let done: Tags = [(tags::PASSWORD_STATE.to_string(), "set".to_string())].into();
        self.ports.rds.add_tags(&cluster.arn, &done).await
    }

    /// Stores a fresh password in a new secret, or adopts the secret an earlier attempt of this
    /// very request made for this clone. A secret of that name made for anything else is never
    /// adopted (its password and reader policy are not ours to take over).
    async fn store_password(
        &self,
        cluster: &Cluster,
        plan: &PasswordPlan,
        key: Option<&str>,
    ) -> Result<(SecretRef, String), AwsError> {
        let fresh = generate();
        let value = secret_json(cluster, &fresh).to_string();
        let name = &plan.secret_name;
        match self
            .ports
            .secrets
            .create(name, &value, key, &plan.tags)
            .await?
        {
            Created::New(secret) => return Ok((secret, fresh)),
            Created::Exists => {}
        }
        let stored = self.ports.secrets.read(name).await?.ok_or_else(|| {
            AwsError::transient(
                "DescribeSecret",
                "Vanished",
                format!("secret {name} existed and is gone"),
            )
        })?;
        let tagged = |k: &str, v: &str| stored.tags.get(k).map(String::as_str) == Some(v);
        let ours = tagged(tags::MANAGED_BY, &self.settings.stack_name)
            && tagged(tags::CLUSTER, &cluster.id)
            && tagged(tags::SECRET_REQUEST, &plan.request_id);
        if !ours {
            return Err(AwsError::permanent("CreateSecret", "SecretNameTaken", format!(
                "a secret named {name} exists and was not made for clone {} by this request: it is left alone; remove it or choose another SecretPrefix",
                cluster.id
            )));
        }
        let password = stored
            .value
            .as_deref()
            .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
            .and_then(|v| v["password"].as_str().map(str::to_string))
            .ok_or_else(|| {
                AwsError::permanent(
                    "GetSecretValue",
                    "Unreadable",
                    format!(
                        "secret {name} holds no password this tool can read; no password was set"
                    ),
                )
            })?;
        Ok((stored.secret, password))
    }

    /// The key for the secret. A key made for the clone alone is announced on the cluster
    /// before it is made (`created-key = pending:<secret name>`) and recorded once made: an
    /// attempt that dies in between leaves the mark, and the next finds the key by the
    /// `for-secret` tag it was made with, so no key is ever made twice or left behind.
    async fn secret_key(
        &self,
        cluster: &Cluster,
        plan: &PasswordPlan,
    ) -> Result<Option<String>, AwsError> {
        Ok(match &plan.key {
            KeyChoice::Given(k) | KeyChoice::StackDefault(k) => Some(k.clone()),
            KeyChoice::AwsManaged => None,
            KeyChoice::CreateForClone => Some(self.clone_key(cluster, plan).await?),
        })
    }

    async fn clone_key(&self, cluster: &Cluster, plan: &PasswordPlan) -> Result<String, AwsError> {
        let pending = format!("{PENDING_KEY}{}", plan.secret_name);
        match cluster.tags.get(tags::CREATED_KEY) {
            Some(k) if *k == pending => {
                let made = self
                    .ports
                    .keys
                    .find_tagged(tags::FOR_SECRET, &plan.secret_name);
                if let Some(id) = made.await?.into_iter().next() {
                    self.mark_key(cluster, &id).await?;
                    return Ok(id);
                }
            }
            Some(k) if !k.starts_with(PENDING_KEY) => return Ok(k.clone()),
            _ => self.mark_key(cluster, &pending).await?,
        }
        let (account, region) = account_and_region(&cluster.arn);
        let role = self.settings.guard.role_arn.as_deref();
        let policy = key_policy(&account, &plan.readers, &region, role).to_string();
        let mut key_tags = plan.tags.clone();
        key_tags.insert(tags::FOR_SECRET.into(), plan.secret_name.clone());
        let description = format!("password secret of Aurora clone {}", cluster.id);
        let id = self
            .ports
            .keys
            .create(&description, &policy, &key_tags)
            .await?;
        self.mark_key(cluster, &id).await?;
        Ok(id)
    }

    async fn mark_key(&self, cluster: &Cluster, value: &str) -> Result<(), AwsError> {
        let mark: Tags = [(tags::CREATED_KEY.to_string(), value.to_string())].into();
        self.ports.rds.add_tags(&cluster.arn, &mark).await
    }

    /// The secret's resource policy: its readers, and this function's own rights on it (where
    /// the role is known); `None` when there is nothing to grant.
    fn secret_policy(&self, readers: &[String]) -> Option<String> {
        let role = self.settings.guard.role_arn.as_deref();
        (!readers.is_empty() || role.is_some()).then(|| secret_policy(readers, role).to_string())
    }

    /// Rewrites who may read the secret (and decrypt it, for a key made for the clone).
    pub(super) async fn set_readers(
        &self,
        cluster: &Cluster,
        readers: &[String],
    ) -> Result<(), AwsError> {
        let Some(secret) = cluster.tags.get(tags::PASSWORD_SECRET) else {
            return Ok(());
        };
        let policy = self.secret_policy(readers);
        self.ports
            .secrets
            .set_readers(secret, policy.as_deref())
            .await?;
        let created = cluster.tags.get(tags::CREATED_KEY);
        if let Some(key) = created.filter(|k| !k.starts_with(PENDING_KEY)) {
            let (account, region) = account_and_region(&cluster.arn);
            let role = self.settings.guard.role_arn.as_deref();
            let policy = key_policy(&account, readers, &region, role).to_string();
            self.ports.keys.set_policy(key, &policy).await?;
        }
        Ok(())
    }

    /// Removes the clone's secret and a key made for it, and the tags that named them. The
    /// clone keeps its last password: nobody but the removed readers ever knew it.
    pub(super) async fn drop_credentials(&self, cluster: &Cluster) -> Result<(), AwsError> {
        self.remove_credentials(&Removal::of(cluster)).await?;
        let keys: Vec<String> = [
            tags::PASSWORD_SECRET,
            tags::PASSWORD_KEY,
            tags::CREATED_KEY,
            tags::PASSWORD_STATE,
        ]
        .iter()
        .map(|k| k.to_string())
        .collect();
        self.ports.rds.remove_tags(&cluster.arn, &keys).await
    }

    /// Deletes a clone's secret (with a recovery window) and retires a key made for it: only a
    /// secret or key whose own tags say this manager made it for this clone. A tag on the
    /// cluster naming someone else's secret or key (written by hand, or a name that was taken)
    /// proves nothing, and nothing of theirs is deleted.
    pub(super) async fn remove_credentials(&self, r: &Removal) -> Result<(), AwsError> {
        if let Some(secret) = &r.secret {
            match self.ports.secrets.tags(secret).await? {
                Some(t) if self.made_for(&t, r) => self.ports.secrets.delete(secret).await?,
                Some(_) => {
                    tracing::warn!(%secret, cluster = %r.cluster_id, "not deleting a secret this manager did not make for the clone")
                }
                None => {}
            }
        }
        let keys = match r
            .created_key
            .as_deref()
            .map(|k| (k, k.strip_prefix(PENDING_KEY)))
        {
            Some((_, Some(secret_name))) => {
                self.ports
                    .keys
                    .find_tagged(tags::FOR_SECRET, secret_name)
                    .await?
            }
            Some((key, None)) => vec![key.to_string()],
            None => vec![],
        };
        for key in keys {
            match self.ports.keys.tags(&key).await? {
                Some(t) if self.made_for(&t, r) => self.ports.keys.retire(&key).await?,
                Some(_) => {
                    tracing::warn!(%key, cluster = %r.cluster_id, "not retiring a key this manager did not make for the clone")
                }
                None => {}
            }
        }
        Ok(())
    }

    /// A secret's or key's tags prove it was made by this manager for the clone `r` removes
    /// (by the `cluster` tag, or for ones made before it existed, the clone's request id).
    fn made_for(&self, t: &Tags, r: &Removal) -> bool {
        let tag = |k: &str| t.get(k).map(String::as_str);
        tag(tags::MANAGED_BY) == Some(self.settings.stack_name.as_str())
            && match tag(tags::CLUSTER) {
                Some(c) => c == r.cluster_id,
                None => r.request_id.is_some() && tag(tags::REQUEST_ID) == r.request_id.as_deref(),
            }
    }
}
