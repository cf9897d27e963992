//! The states AWS reports, typed: a cluster's and an instance's (RDS spells them in lowercase
//! with hyphens) and a stack's or stack resource's (CloudFormation spells them in upper case).
//! Each rule that reads a state is a predicate here, defined once; adapters parse AWS's strings
//! at the boundary, and a state AWS adds later parses as `Other`, which no rule accepts unless
//! its spelling says so (see each predicate).

use std::fmt;

/// An enum of states with AWS's own spelling: parsing never fails (`Other` keeps what AWS said)
/// and every state prints back exactly as AWS spelled it.
macro_rules! spelled {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A state this code has no name for (AWS adds some now and then), as AWS spelled it.
            Other(String),
        }

        impl $name {
            /// The state as AWS spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name::from(s.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<$name, Self::Err> {
                Ok($name::from(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Compares with AWS's spelling (tables and tests read best so).
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

spelled! {
    /// A DB cluster's state (`DescribeDBClusters`' `Status`).
    ClusterStatus {
        Available = "available",
        BackingUp = "backing-up",
        Backtracking = "backtracking",
        CloningFailed = "cloning-failed",
        Creating = "creating",
        Deleting = "deleting",
        Failed = "failed",
        FailingOver = "failing-over",
        InaccessibleEncryptionCredentials = "inaccessible-encryption-credentials",
        InaccessibleEncryptionCredentialsRecoverable =
            "inaccessible-encryption-credentials-recoverable",
        IncompatibleNetwork = "incompatible-network",
        IncompatibleParameters = "incompatible-parameters",
        IncompatibleRestore = "incompatible-restore",
        Maintenance = "maintenance",
        Migrating = "migrating",
        MigrationFailed = "migration-failed",
        Modifying = "modifying",
        Promoting = "promoting",
        Rebooting = "rebooting",
        Renaming = "renaming",
        ResettingMasterCredentials = "resetting-master-credentials",
        RestoreFailed = "restore-failed",
        Starting = "starting",
        Stopped = "stopped",
        Stopping = "stopping",
        StorageOptimization = "storage-optimization",
        UpdateIamDbAuth = "update-iam-db-auth",
        Upgrading = "upgrading",
    }
}

impl ClusterStatus {
    pub fn is_available(&self) -> bool {
        *self == ClusterStatus::Available
    }

    pub fn is_creating(&self) -> bool {
        *self == ClusterStatus::Creating
    }

    pub fn is_deleting(&self) -> bool {
        *self == ClusterStatus::Deleting
    }

    pub fn is_stopped(&self) -> bool {
        *self == ClusterStatus::Stopped
    }

    /// Stopped, or on its way there: an expiry's stop took effect (or is taking it).
    pub fn is_stopped_or_stopping(&self) -> bool {
        matches!(self, ClusterStatus::Stopped | ClusterStatus::Stopping)
    }

    /// A state from which a restore never becomes usable: a request fails at once, and a pool
    /// copy in it is obsolete. AWS names every incompatibility `incompatible-...`, so one it adds
    /// later counts too.
    pub fn is_terminal(&self) -> bool {
        use ClusterStatus::*;
        match self {
            CloningFailed
            | InaccessibleEncryptionCredentials
            | InaccessibleEncryptionCredentialsRecoverable
            | IncompatibleNetwork
            | IncompatibleParameters
            | IncompatibleRestore
            | RestoreFailed
            | MigrationFailed
            | Failed => true,
            Other(s) => s.starts_with("incompatible-"),
            _ => false,
        }
    }

    /// A state in which the cluster can be cloned: running, with its storage reachable.
    pub fn is_cloneable(&self) -> bool {
        use ClusterStatus::*;
        matches!(
            self,
            Available | BackingUp | Modifying | Upgrading | Maintenance
        )
    }

    /// RDS accepts a new writer instance in the cluster now. `creating` too, in practice: a
    /// restored cluster takes its writer while it is still being made, which saves minutes; and
    /// `backing-up`, the state a restored cluster passes through next, so that its writer is not
    /// held back until the first backup is over.
    pub fn accepts_writer(&self) -> bool {
        use ClusterStatus::*;
        matches!(self, Creating | Available | BackingUp)
    }

    /// RDS deletes the cluster and its instances in this state: never while it is stopped, or
    /// stopping, or starting (it refuses with `InvalidDBClusterStateFault`).
    pub fn is_deletable(&self) -> bool {
        use ClusterStatus::*;
        !matches!(self, Stopped | Stopping | Starting)
    }
}

spelled! {
    /// A DB instance's state (`DescribeDBInstances`' `DBInstanceStatus`).
    InstanceStatus {
        Available = "available",
        BackingUp = "backing-up",
        ConfiguringEnhancedMonitoring = "configuring-enhanced-monitoring",
        ConfiguringIamDatabaseAuth = "configuring-iam-database-auth",
        ConfiguringLogExports = "configuring-log-exports",
        ConvertingToVpc = "converting-to-vpc",
        Creating = "creating",
        DeletePrecheck = "delete-precheck",
        Deleting = "deleting",
        Failed = "failed",
        InaccessibleEncryptionCredentials = "inaccessible-encryption-credentials",
        InaccessibleEncryptionCredentialsRecoverable =
            "inaccessible-encryption-credentials-recoverable",
        IncompatibleNetwork = "incompatible-network",
        IncompatibleOptionGroup = "incompatible-option-group",
        IncompatibleParameters = "incompatible-parameters",
        IncompatibleRestore = "incompatible-restore",
        InsufficientCapacity = "insufficient-capacity",
        Maintenance = "maintenance",
        Modifying = "modifying",
        MovingToVpc = "moving-to-vpc",
        Rebooting = "rebooting",
        Renaming = "renaming",
        ResettingMasterCredentials = "resetting-master-credentials",
        RestoreError = "restore-error",
        Starting = "starting",
        Stopped = "stopped",
        Stopping = "stopping",
        StorageFull = "storage-full",
        StorageOptimization = "storage-optimization",
        Upgrading = "upgrading",
    }
}

impl InstanceStatus {
    pub fn is_available(&self) -> bool {
        *self == InstanceStatus::Available
    }

    /// A state the instance will not leave for `available` without an operator.
    pub fn is_terminal(&self) -> bool {
        use InstanceStatus::*;
        matches!(
            self,
            Failed
                | IncompatibleNetwork
                | IncompatibleParameters
                | IncompatibleRestore
                | InaccessibleEncryptionCredentials
                | RestoreError
                | StorageFull
        )
    }
}

spelled! {
    /// A CloudFormation stack's status (`DescribeStacks`), or a resource's in it
    /// (`DescribeStackResource`): the two share their spelling.
    StackStatus {
        CreateInProgress = "CREATE_IN_PROGRESS",
        CreateFailed = "CREATE_FAILED",
        CreateComplete = "CREATE_COMPLETE",
        RollbackInProgress = "ROLLBACK_IN_PROGRESS",
        RollbackFailed = "ROLLBACK_FAILED",
        RollbackComplete = "ROLLBACK_COMPLETE",
        DeleteInProgress = "DELETE_IN_PROGRESS",
        DeleteFailed = "DELETE_FAILED",
        DeleteComplete = "DELETE_COMPLETE",
        /// A resource only: its stack retained it (`DeletionPolicy: Retain`).
        DeleteSkipped = "DELETE_SKIPPED",
        UpdateInProgress = "UPDATE_IN_PROGRESS",
        UpdateCompleteCleanupInProgress = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        UpdateComplete = "UPDATE_COMPLETE",
        UpdateFailed = "UPDATE_FAILED",
        UpdateRollbackInProgress = "UPDATE_ROLLBACK_IN_PROGRESS",
        UpdateRollbackFailed = "UPDATE_ROLLBACK_FAILED",
        UpdateRollbackCompleteCleanupInProgress = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        UpdateRollbackComplete = "UPDATE_ROLLBACK_COMPLETE",
        ReviewInProgress = "REVIEW_IN_PROGRESS",
        ImportInProgress = "IMPORT_IN_PROGRESS",
        ImportComplete = "IMPORT_COMPLETE",
        ImportFailed = "IMPORT_FAILED",
        ImportRollbackInProgress = "IMPORT_ROLLBACK_IN_PROGRESS",
        ImportRollbackFailed = "IMPORT_ROLLBACK_FAILED",
        ImportRollbackComplete = "IMPORT_ROLLBACK_COMPLETE",
    }
}

impl StackStatus {
    /// CloudFormation is still working (every such state ends in `_IN_PROGRESS`, one it adds
    /// later too).
    pub fn is_in_progress(&self) -> bool {
        use StackStatus::*;
        match self {
            CreateInProgress
            | RollbackInProgress
            | DeleteInProgress
            | UpdateInProgress
            | UpdateCompleteCleanupInProgress
            | UpdateRollbackInProgress
            | UpdateRollbackCompleteCleanupInProgress
            | ReviewInProgress
            | ImportInProgress
            | ImportRollbackInProgress => true,
            Other(s) => s.ends_with("_IN_PROGRESS"),
            _ => false,
        }
    }

    /// CloudFormation is working on an Update (or rolling one back), clean-up included.
    pub fn is_updating(&self) -> bool {
        use StackStatus::*;
        match self {
            UpdateInProgress
            | UpdateCompleteCleanupInProgress
            | UpdateRollbackInProgress
            | UpdateRollbackCompleteCleanupInProgress => true,
            Other(s) => s.starts_with("UPDATE") && s.ends_with("IN_PROGRESS"),
            _ => false,
        }
    }

    pub fn is_deleting(&self) -> bool {
        *self == StackStatus::DeleteInProgress
    }

    /// A stack phase in which CloudFormation deletes a resource's *current* physical id, though
    /// the resource's own status may not say so yet: the stack's deletion, and a new stack's
    /// rollback.
    pub fn deletes_current_ids(&self) -> bool {
        matches!(
            self,
            StackStatus::DeleteInProgress | StackStatus::RollbackInProgress
        )
    }

    /// A stack phase in which CloudFormation deletes a resource's *other* physical ids: the old
    /// clone after a replacement (update clean-up, either way), everything when the stack is
    /// deleted, and a failed Create's id while a new stack rolls back.
    pub fn deletes_other_ids(&self) -> bool {
        use StackStatus::*;
        matches!(
            self,
            UpdateCompleteCleanupInProgress
                | UpdateRollbackCompleteCleanupInProgress
                | DeleteInProgress
                | RollbackInProgress
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_print_back_as_aws_spelled_them() {
        for s in [
            "available",
            "backing-up",
            "resetting-master-credentials",
            "new-state",
        ] {
            assert_eq!(ClusterStatus::from(s).as_str(), s);
            assert_eq!(
                s.parse::<ClusterStatus>().map(|c| c.to_string()),
                Ok(s.into())
            );
        }
        assert_eq!(ClusterStatus::from("stopped"), ClusterStatus::Stopped);
        assert_eq!(
            InstanceStatus::from("storage-full"),
            InstanceStatus::StorageFull
        );
        assert_eq!(
            StackStatus::from("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            StackStatus::UpdateCompleteCleanupInProgress
        );
        assert_eq!(
            serde_json::json!({"s": ClusterStatus::from("creating")}),
            serde_json::json!({"s": "creating"})
        );
    }

    #[test]
    fn states_aws_adds_later_are_judged_by_their_spelling_only_where_aws_is_consistent() {
        assert!(ClusterStatus::from("incompatible-something-new").is_terminal());
        assert!(!ClusterStatus::from("some-new-state").is_terminal());
        assert!(!ClusterStatus::from("some-new-state").is_cloneable());
        assert!(!ClusterStatus::from("some-new-state").accepts_writer());
        assert!(!InstanceStatus::from("incompatible-option-group").is_terminal());
        assert!(StackStatus::from("IMPORT_SOMETHING_IN_PROGRESS").is_in_progress());
        assert!(StackStatus::from("UPDATE_SOMETHING_IN_PROGRESS").is_updating());
        assert!(!StackStatus::UpdateComplete.is_updating());
        assert!(!StackStatus::UpdateComplete.is_in_progress());
    }

    #[test]
    fn a_writer_is_added_while_the_cluster_is_made_or_running() {
        let accepts = |s: &str| ClusterStatus::from(s).accepts_writer();
        assert!(accepts("creating") && accepts("available") && accepts("backing-up"));
        assert!(!accepts("deleting") && !accepts("stopped") && !accepts("modifying"));
    }

    #[test]
    fn rds_deletes_nothing_in_a_stopped_stopping_or_starting_cluster() {
        for s in ["stopped", "stopping", "starting"] {
            assert!(!ClusterStatus::from(s).is_deletable(), "{s}");
        }
        assert!(ClusterStatus::Available.is_deletable());
        assert!(ClusterStatus::Deleting.is_deletable());
    }
}
