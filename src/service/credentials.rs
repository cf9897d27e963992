//! Setting a clone's own master password, and removing its secret and key. The ledger is the
//! record of what was made: the secret and a key made for the clone are announced in the
//! clone's deed before they are made and recorded once made, so a retry after a failure between
//! steps reuses what the earlier attempt made, and nothing is ever made twice or left behind.
//! Tags on the cluster only mirror the deed for people: a tag naming someone else's secret or
//! key (written by hand) is never read.

use super::Core;
use crate::domain::{tags, Cluster, Deed, Made, Tags};
use crate::error::AwsError;
use crate::password::{generate, key_policy, secret_json, secret_policy};
use crate::planner::action::Removal;
use crate::planner::credentials::{account_and_region, secret_name, KeyChoice, PasswordPlan};
use crate::ports::{Created, SecretRef};
use std::sync::Arc;

/// A key mark older than this, whose key cannot be found, was left by an attempt that died
/// before it created the key: another attempt may take the mark over. The holder marks and
/// creates in one step, and a CreateKey call gives up after `adapters::OPERATION_TIMEOUT`
/// (25 s), so by then no create of the holder's is still in flight.
const KEY_MARK_SECS: i64 = 60;

/// A clone's master password, its secret and key, and who may read them.
#[derive(Clone)]
pub struct Credentials {
    pub(super) core: Core,
    pub(super) rds: Arc<dyn crate::ports::Rds>,
    pub(super) secrets: Arc<dyn crate::ports::Secrets>,
    pub(super) keys: Arc<dyn crate::ports::Keys>,
    pub(super) deeds: Arc<super::ledger::Deeds>,
}

impl Credentials {
    /// Gives the clone its own master password. The password set on RDS is always the one
    /// stored in the secret, read back when an earlier attempt made it.
    pub(super) async fn set_password(
        &self,
        cluster: &Cluster,
        plan: &PasswordPlan,
    ) -> Result<(), AwsError> {
        let deed = self.deeds.fresh_deed(&cluster.id).await?;
        let (key, deed) = self.secret_key(deed, cluster, plan).await?;
        let deed = self.announce_secret(deed, plan).await?;
        let (secret, password) = self
            .store_password(cluster, &deed, plan, key.as_deref())
            .await?;
        if deed.secret_arn() != Some(secret.arn.as_str()) {
            let made = Deed {
                secret: Some(Made::Made(secret.arn.clone())),
                ..deed
            };
            self.deeds.amend_deed(&made).await?;
        }
        if let Some(policy) = self.secret_policy(&plan.readers) {
            self.secrets.set_readers(&secret.arn, Some(&policy)).await?;
        }
        let mut marks = Tags::new();
        marks.insert(tags::PASSWORD_SECRET.into(), secret.arn.clone());
        marks.insert(
            tags::PASSWORD_KEY.into(),
            key.unwrap_or_else(|| "aws/secretsmanager".into()),
        );
        self.rds.add_tags(&cluster.arn, &marks).await?;
        tracing::info!(clone = %cluster.id, secret = %secret.name, "setting the clone's own master password");
        self.rds.set_master_password(&cluster.id, &password).await?;
        let done: Tags = [(tags::PASSWORD_STATE.to_string(), "set".to_string())].into();
        self.rds.add_tags(&cluster.arn, &done).await
    }

    /// Names the secret in the deed before it is made (removing the clone removes it, whatever
    /// fails next).
    async fn announce_secret(&self, deed: Deed, plan: &PasswordPlan) -> Result<Deed, AwsError> {
        let announced = match &deed.secret {
            Some(Made::Intended(name)) => *name == plan.secret_name,
            Some(Made::Made(arn)) => secret_name(arn) == plan.secret_name,
            None => false,
        };
        if announced {
            return Ok(deed);
        }
        let intent = Made::Intended(plan.secret_name.clone());
        self.deeds
            .amend_deed(&Deed {
                secret: Some(intent),
                ..deed
            })
            .await
    }

    /// Stores a fresh password in a new secret, or adopts the secret an earlier attempt of this
    /// very request made for this clone. A secret of that name made for anything else is never
    /// adopted (its password and reader policy are not ours to take over).
    async fn store_password(
        &self,
        cluster: &Cluster,
        deed: &Deed,
        plan: &PasswordPlan,
        key: Option<&str>,
    ) -> Result<(SecretRef, String), AwsError> {
        let fresh = generate();
        let value = secret_json(cluster, &fresh).to_string();
        let name = &plan.secret_name;
        match self.secrets.create(name, &value, key, &plan.tags).await? {
            Created::New(secret) => return Ok((secret, fresh)),
            Created::Exists => {}
        }
        let stored = self.secrets.read(name).await?.ok_or_else(|| {
            AwsError::transient(
                "DescribeSecret",
                "Vanished",
                format!("secret {name} existed and is gone"),
            )
        })?;
        // Recorded in the deed, it is ours. Only announced, it may be an earlier attempt's (its
        // reply lost) or a secret someone else made under that name meanwhile: the tags it was
        // created with tell (the creation race is the one place a tag is read).
        let recorded = deed.secret_arn() == Some(stored.secret.arn.as_str());
        let tagged = |k: &str, v: &str| stored.tags.get(k).map(String::as_str) == Some(v);
        let ours = recorded
            || (tagged(tags::MANAGED_BY, &self.core.settings.stack_name)
                && tagged(tags::CLUSTER, &cluster.id)
                && tagged(tags::SECRET_REQUEST, &plan.request_id));
        if !ours {
            if deed.secret == Some(Made::Intended(name.clone())) {
                self.deeds
                    .amend_deed(&Deed {
                        secret: None,
                        ..deed.clone()
                    })
                    .await?;
            }
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

    /// The key for the secret, and the deed as it stands afterwards.
    async fn secret_key(
        &self,
        deed: Deed,
        cluster: &Cluster,
        plan: &PasswordPlan,
    ) -> Result<(Option<String>, Deed), AwsError> {
        Ok(match &plan.key {
            KeyChoice::Given(k) | KeyChoice::StackDefault(k) => (Some(k.clone()), deed),
            KeyChoice::AwsManaged => (None, deed),
            KeyChoice::CreateForClone => {
                let (id, deed) = self.clone_key(deed, cluster, plan).await?;
                (Some(id), deed)
            }
        })
    }

    /// A key for the clone alone. It is made only by the holder of a mark written into the deed
    /// by a conditional write (two invocations cannot both make one), and is tagged with the
    /// mark's random token: an attempt that dies before recording the key leaves the mark, and
    /// the next finds the key by that token, which nobody outside the ledger knows.
    async fn clone_key(
        &self,
        deed: Deed,
        cluster: &Cluster,
        plan: &PasswordPlan,
    ) -> Result<(String, Deed), AwsError> {
        let now = self.core.now_secs();
        let deed = match &deed.key {
            Some(Made::Made(id)) => return Ok((id.clone(), deed.clone())),
            Some(Made::Intended(token)) => {
                let found = self.keys.find_tagged(tags::FOR_SECRET, token).await?;
                if let Some(id) = found.into_iter().next() {
                    let made = Deed {
                        key: Some(Made::Made(id.clone())),
                        ..deed
                    };
                    return Ok((id, self.deeds.amend_deed(&made).await?));
                }
                if now - deed.marked < KEY_MARK_SECS {
                    return Err(AwsError::transient(
                        "CreateKey",
                        "KeyBeingMade",
                        format!("another attempt is making the key of {}", cluster.id),
                    ));
                }
                self.mark_key(deed, now).await?
            }
            None => self.mark_key(deed, now).await?,
        };
        let Some(Made::Intended(token)) = deed.key.clone() else {
            return Err(AwsError::transient(
                "CreateKey",
                "DeedChanged",
                "the key mark changed",
            ));
        };
        let (account, region) = account_and_region(&cluster.arn);
        let role = self.core.settings.guard.role_arn.as_deref();
        let policy = key_policy(&account, &plan.readers, &region, role).to_string();
        let mut key_tags = plan.tags.clone();
        key_tags.insert(tags::FOR_SECRET.into(), token);
        let description = format!("password secret of Aurora clone {}", cluster.id);
        let id = self.keys.create(&description, &policy, &key_tags).await?;
        let made = Deed {
            key: Some(Made::Made(id.clone())),
            ..deed
        };
        let deed = self.deeds.amend_deed(&made).await?;
        let mirror: Tags = [(tags::CREATED_KEY.to_string(), id.clone())].into();
        self.rds.add_tags(&cluster.arn, &mirror).await?;
        Ok((id, deed))
    }

    async fn mark_key(&self, deed: Deed, now: i64) -> Result<Deed, AwsError> {
        let token = format!("{:032x}", rand::random::<u128>());
        let marked = Deed {
            key: Some(Made::Intended(token)),
            marked: now,
            ..deed
        };
        self.deeds.amend_deed(&marked).await
    }

    /// The secret's resource policy: its readers, and this function's own rights on it (where
    /// the role is known); `None` when there is nothing to grant.
    fn secret_policy(&self, readers: &[String]) -> Option<String> {
        let role = self.core.settings.guard.role_arn.as_deref();
        (!readers.is_empty() || role.is_some()).then(|| secret_policy(readers, role).to_string())
    }

    /// Rewrites who may read the secret (and decrypt it, for a key made for the clone): only
    /// the secret and key the clone's deed records, whatever its tags say.
    pub(super) async fn set_readers(
        &self,
        cluster: &Cluster,
        readers: &[String],
    ) -> Result<(), AwsError> {
        let deed = self.deeds.fresh_deed(&cluster.id).await?;
        let Some(secret) = deed.secret_arn() else {
            return Ok(());
        };
        let policy = self.secret_policy(readers);
        self.secrets.set_readers(secret, policy.as_deref()).await?;
        if let Some(key) = deed.key_id() {
            let (account, region) = account_and_region(&cluster.arn);
            let role = self.core.settings.guard.role_arn.as_deref();
            let policy = key_policy(&account, readers, &region, role).to_string();
            self.keys.set_policy(key, &policy).await?;
        }
        Ok(())
    }

    /// Removes the clone's secret and a key made for it, and the tags that named them. The
    /// clone keeps its last password: nobody but the removed readers ever knew it.
    pub(super) async fn drop_credentials(&self, cluster: &Cluster) -> Result<(), AwsError> {
        let deed = self.deeds.fresh_deed(&cluster.id).await?;
        let current = Cluster {
            deed: Some(deed.clone()),
            ..cluster.clone()
        };
        self.remove_credentials(&Removal::of(&current)).await?;
        self.deeds
            .amend_deed(&Deed {
                secret: None,
                key: None,
                ..deed
            })
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
        self.rds.remove_tags(&cluster.arn, &keys).await
    }

    /// Deletes a clone's secret (with a recovery window) and retires a key made for it: only
    /// what the clone's deed records. A secret only announced (its creation's reply lost) is
    /// deleted if its creation tags say it was made for this clone; a key only announced is
    /// found by the deed's random token.
    pub(super) async fn remove_credentials(&self, r: &Removal) -> Result<(), AwsError> {
        match &r.secret {
            Some(Made::Made(arn)) => self.secrets.delete(arn).await?,
            Some(Made::Intended(name)) => {
                if let Some(t) = self.secrets.tags(name).await? {
                    if self.made_for(&t, r) {
                        self.secrets.delete(name).await?;
                    }
                }
            }
            None => {}
        }
        let keys = match &r.created_key {
            Some(Made::Made(id)) => vec![id.clone()],
            Some(Made::Intended(token)) => self.keys.find_tagged(tags::FOR_SECRET, token).await?,
            None => vec![],
        };
        for key in keys {
            self.keys.retire(&key).await?;
        }
        Ok(())
    }

    /// A secret's creation tags say this manager made it for the clone `r` removes.
    fn made_for(&self, t: &Tags, r: &Removal) -> bool {
        let tag = |k: &str| t.get(k).map(String::as_str);
        tag(tags::MANAGED_BY) == Some(self.core.settings.stack_name.as_str())
            && tag(tags::CLUSTER) == Some(r.cluster_id.as_str())
    }
}
