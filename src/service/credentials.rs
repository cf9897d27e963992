//! Setting a clone's own master password, and removing its secret and key. The secret (and a
//! key made for the clone) exist only once the clone does; each step is idempotent, so a retry
//! after a failure between steps reuses what the earlier attempt made.

use super::Manager;
use crate::domain::{tags, Cluster, Tags};
use crate::error::AwsError;
use crate::password::{generate, key_policy, secret_json, secret_policy};
use crate::planner::credentials::{account_and_region, KeyChoice, PasswordPlan};

/// The `created-key` mark of a key about to be made, before its id is known.
const PENDING_KEY: &str = "pending:";

impl Manager {
    pub(super) async fn set_password(
        &self,
        cluster: &Cluster,
        plan: &PasswordPlan,
    ) -> Result<(), AwsError> {
        let key = self.secret_key(cluster, plan).await?;
        let fresh = generate();
        let value = secret_json(cluster, &fresh).to_string();
        let (secret, existing) = self
            .ports
            .secrets
            .create(&plan.secret_name, &value, key.as_deref(), &plan.tags)
            .await?;
        let password = existing
            .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
            .and_then(|v| v["password"].as_str().map(str::to_string))
            .unwrap_or(fresh);
        if !plan.readers.is_empty() {
            self.ports
                .secrets
                .set_readers(&secret.arn, Some(&secret_policy(&plan.readers).to_string()))
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
        let policy = key_policy(&account, &plan.readers, &region).to_string();
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

    /// Rewrites who may read the secret (and decrypt it, for a key made for the clone).
    pub(super) async fn set_readers(
        &self,
        cluster: &Cluster,
        readers: &[String],
    ) -> Result<(), AwsError> {
        let Some(secret) = cluster.tags.get(tags::PASSWORD_SECRET) else {
            return Ok(());
        };
        let policy = (!readers.is_empty()).then(|| secret_policy(readers).to_string());
        self.ports
            .secrets
            .set_readers(secret, policy.as_deref())
            .await?;
        let created = cluster.tags.get(tags::CREATED_KEY);
        if let Some(key) = created.filter(|k| !k.starts_with(PENDING_KEY)) {
            let (account, region) = account_and_region(&cluster.arn);
            self.ports
                .keys
                .set_policy(key, &key_policy(&account, readers, &region).to_string())
                .await?;
        }
        Ok(())
    }

    /// Removes the clone's secret and a key made for it, and the tags that named them. The
    /// clone keeps its last password: nobody but the removed readers ever knew it.
    pub(super) async fn drop_credentials(&self, cluster: &Cluster) -> Result<(), AwsError> {
        self.remove_credentials(
            cluster.tags.get(tags::PASSWORD_SECRET).map(String::as_str),
            cluster.tags.get(tags::CREATED_KEY).map(String::as_str),
        )
        .await?;
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

    /// Deletes a clone's secret (with a recovery window) and retires a key made for it; never a
    /// key this tool did not create (only the `created-key` tag names one).
    pub(super) async fn remove_credentials(
        &self,
        secret: Option<&str>,
        created_key: Option<&str>,
    ) -> Result<(), AwsError> {
        if let Some(secret) = secret {
            self.ports.secrets.delete(secret).await?;
        }
        match created_key.map(|k| (k, k.strip_prefix(PENDING_KEY))) {
            Some((_, Some(secret_name))) => {
                for key in self
                    .ports
                    .keys
                    .find_tagged(tags::FOR_SECRET, secret_name)
                    .await?
                {
                    self.ports.keys.retire(&key).await?;
                }
            }
            Some((key, None)) => self.ports.keys.retire(key).await?,
            None => {}
        }
        Ok(())
    }
}
