//! A refresh in place, decided from what is seen: the request the new clone is made under (so
//! the same placement rules as a Create place it), the deeds of its helper clusters, and each
//! step of the cut-over.
//!
//! The cut-over renames four things, in this order: the old writer aside, the old cluster aside
//! (its new name entered in the ledger first), the new cluster to the clone's name, the new
//! writer to the clone's writer name. `RefreshItem::renamed` counts the renames RDS accepted.
//! RDS lags a rename (the old name answers `NotFound` before the new one is listed), so each
//! step is judged by what is listed, and a step whose effect is seen already counts as done.

use super::action::{Action, Renamed};
use crate::domain::ident::writer_instance_id;
use crate::domain::properties::CloneProperties;
use crate::domain::refresh::RefreshItem;
use crate::domain::{Cluster, Deed, Tags};

/// The properties the new clone is made with: the clone's own, as its deed records them,
/// named for the refresh and without what only a Create does (its own password and secret,
/// which the clone keeps; its expiry, which the clone keeps; a fallback name).
pub fn fresh_properties(clone: &CloneProperties, item: &RefreshItem) -> CloneProperties {
    CloneProperties {
        cluster_id: Some(item.fresh_id.clone()),
        set_password: false,
        access_principal_arns: vec![],
        no_fail_on_existing_cluster: false,
        purge_obsolete_copies: false,
        expiry: None,
        refresh: None,
        prepare: None,
        ..clone.clone()
    }
}

/// The deed of a cluster a refresh makes or renames aside: the clone's owner, this attempt's
/// request, no credentials (the clone's secret and key stay with the clone) and no properties
/// (so no expiry, no Update, no Delete acts on it).
pub fn helper_deed(
    clone: &Deed,
    item: &RefreshItem,
    cluster_id: &str,
    root: Option<String>,
    now: i64,
) -> Deed {
    Deed {
        cluster_id: cluster_id.to_string(),
        request_id: Some(item.request_id()),
        root,
        recorded: now,
        properties: None,
        secret: None,
        key: None,
        marked: 0,
        deleting: false,
        refreshing: None,
        refresh_of: Some(item.cluster_id.clone()),
        born: None,
        version: 0,
        ..clone.clone()
    }
}

/// The new clone's tags: the clone's own (the user's, its credentials', its expiry's), with
/// the ownership and lineage the restore was planned with.
pub fn fresh_tags(clone: &Tags, planned: &Tags) -> Tags {
    let mut tags: Tags = clone
        .iter()
        .filter(|(k, _)| !planned.contains_key(*k) && *k != super::sweep::ORPHAN_SINCE)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    tags.extend(planned.clone());
    tags
}

/// The clone's refresh schedule as `props` ask for it: made (or changed) when they name one,
/// removed when they do not. `None` when nothing needs doing: no schedule asked for and none
/// had (`had`: the properties the clone satisfied before).
pub fn schedule_action(
    cluster: &Cluster,
    props: &CloneProperties,
    had: Option<&CloneProperties>,
) -> Option<Action> {
    let before = had.and_then(|p| p.refresh.as_ref());
    let name = crate::domain::refresh::schedule_name(&cluster.id);
    match &props.refresh {
        Some(spec) if had.is_none() || before != Some(spec) => Some(Action::ScheduleRefresh {
            name,
            expression: spec.schedule.clone(),
            timezone: spec.timezone.clone(),
            cluster_id: cluster.id.clone(),
            cluster_arn: cluster.arn.clone(),
        }),
        None if before.is_some() => Some(Action::Unschedule { name }),
        _ => None,
    }
}

/// What the cut-over does next.
#[derive(Debug, Clone, PartialEq)]
pub enum CutOver {
    /// Ask RDS for this rename.
    Act(Action),
    /// The rename counted by `renamed` is seen done already (an earlier call's reply was lost).
    Counted,
    /// RDS has not caught up; look again later.
    Wait(String),
    /// The clone serves under its name from the new cluster, its writer renamed and available.
    Finished,
}

/// What is listed under the three names.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub clone: Option<&'a Cluster>,
    pub fresh: Option<&'a Cluster>,
    pub retired: Option<&'a Cluster>,
}

/// The next step of the cut-over, by how many renames RDS accepted.
pub fn cut_over(item: &RefreshItem, seen: Names, retired_deed: &Deed) -> CutOver {
    let writer = |c: Option<&Cluster>| c.and_then(writer_of);
    let (w_clone, w_fresh, w_retired) = (
        writer_instance_id(&item.cluster_id),
        writer_instance_id(&item.fresh_id),
        writer_instance_id(&item.retired_id),
    );
    let clone_writer = writer(seen.clone);
    match item.renamed {
        0 => match (seen.clone, clone_writer) {
            (None, _) => CutOver::Wait(format!("clone {} is not listed", item.cluster_id)),
            (Some(_), Some(w)) if w == w_retired => CutOver::Counted,
            (Some(_), Some(w)) => rename(Renamed::Instance, &w, &w_retired, None),
            (Some(_), None) => CutOver::Counted,
        },
        1 => match (seen.clone, seen.retired) {
            (Some(_), _) if clone_writer.as_deref().is_some_and(|w| w != w_retired) => {
                CutOver::Wait(format!(
                    "the old writer of {} is still being renamed",
                    item.cluster_id
                ))
            }
            (Some(_), _) => rename(
                Renamed::Cluster,
                &item.cluster_id,
                &item.retired_id,
                Some(retired_deed.clone()),
            ),
            (None, Some(_)) => CutOver::Counted,
            (None, None) => CutOver::Wait(format!("{} is being renamed aside", item.cluster_id)),
        },
        2 => match (seen.fresh, clone_writer) {
            (Some(_), _) => rename(Renamed::Cluster, &item.fresh_id, &item.cluster_id, None),
            (None, Some(w)) if w == w_fresh || w == w_clone => CutOver::Counted,
            (None, _) => CutOver::Wait(format!("{} is taking the clone's name", item.fresh_id)),
        },
        3 => match clone_writer {
            Some(w) if w == w_fresh => rename(Renamed::Instance, &w_fresh, &w_clone, None),
            Some(w) if w == w_clone => CutOver::Counted,
            _ => CutOver::Wait(format!(
                "the new writer of {} is not listed yet",
                item.cluster_id
            )),
        },
        _ => match seen.clone {
            Some(c) if c.is_available() && clone_writer.as_deref() == Some(w_clone.as_str()) => {
                CutOver::Finished
            }
            Some(c) => CutOver::Wait(format!("{} is {} under its name", c.id, c.status)),
            None => CutOver::Wait(format!(
                "{} is not listed under its name yet",
                item.cluster_id
            )),
        },
    }
}

/// A cluster's writer: the member RDS flags so, or else its only member (the clusters this tool
/// makes have one instance; a listing may not flag it while a rename settles).
fn writer_of(c: &Cluster) -> Option<String> {
    match (c.writer(), c.members.as_slice()) {
        (Some(w), _) => Some(w.to_string()),
        (None, [only]) => Some(only.instance_id.clone()),
        _ => None,
    }
}

fn rename(what: Renamed, from: &str, to: &str, deed: Option<Deed>) -> CutOver {
    CutOver::Act(Action::Rename {
        what,
        from: from.to_string(),
        to: to.to_string(),
        deed: deed.map(Box::new),
    })
}

/// What putting the names back does next, when a refresh is abandoned after the old clone was
/// renamed aside and before the new one took its name: the old cluster back, then its writer.
pub fn put_back(item: &RefreshItem, seen: Names) -> Option<CutOver> {
    let (w_clone, w_retired) = (
        writer_instance_id(&item.cluster_id),
        writer_instance_id(&item.retired_id),
    );
    if seen.retired.is_some() {
        return Some(rename(
            Renamed::Cluster,
            &item.retired_id,
            &item.cluster_id,
            None,
        ));
    }
    match seen.clone.and_then(writer_of) {
        Some(w) if w == w_retired => Some(rename(Renamed::Instance, &w_retired, &w_clone, None)),
        Some(_) => None,
        None if item.renamed == 0 => None,
        None => Some(CutOver::Wait(format!(
            "{} is being renamed back",
            item.cluster_id
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Member, Role};

    fn item(renamed: u8) -> RefreshItem {
        RefreshItem {
            renamed,
            ..RefreshItem::new("clone-qa", "ab12cd", "cli", 1_000)
        }
    }

    fn cluster(id: &str, writer: &str) -> Cluster {
        let mut c = Cluster::new(id, "available");
        c.members = vec![Member {
            instance_id: writer.into(),
            writer: true,
        }];
        c
    }

    fn deed() -> Deed {
        let mut d = crate::domain::ledger::adopted(&Cluster::new("clone-qa", "available"), 0)
            .unwrap_or_else(|| Deed {
                cluster_id: "clone-qa".into(),
                manager: "acm".into(),
                role: Role::Clone,
                stack_id: None,
                logical_id: None,
                request_id: None,
                root: None,
                recorded: 0,
                properties: None,
                secret: None,
                key: None,
                marked: 0,
                deleting: false,
                refreshing: None,
                refresh_of: None,
                born: None,
                version: 0,
            });
        d.secret = Some(crate::domain::Made::Made("arn:secret".into()));
        d
    }

    #[test]
    fn the_cut_over_renames_in_order_and_counts_what_it_sees_done() {
        let (old, fresh) = (
            cluster("clone-qa", "clone-qa-writer"),
            cluster("clone-qa-rab12cd", "clone-qa-rab12cd-writer"),
        );
        let names = Names {
            clone: Some(&old),
            fresh: Some(&fresh),
            retired: None,
        };
        let CutOver::Act(Action::Rename { what, from, to, .. }) =
            cut_over(&item(0), names, &deed())
        else {
            panic!("the old writer goes aside first")
        };
        assert_eq!(
            (what, from.as_str(), to.as_str()),
            (
                Renamed::Instance,
                "clone-qa-writer",
                "clone-qa-oab12cd-writer"
            )
        );
        let aside = cluster("clone-qa", "clone-qa-oab12cd-writer");
        let names = Names {
            clone: Some(&aside),
            ..names
        };
        assert_eq!(
            cut_over(&item(0), names, &deed()),
            CutOver::Counted,
            "a lost reply's rename is seen"
        );
        let retired = helper_deed(&deed(), &item(1), &item(1).retired_id, None, 5);
        let CutOver::Act(Action::Rename {
            what,
            deed: Some(d),
            ..
        }) = cut_over(&item(1), names, &retired)
        else {
            panic!("then the old cluster, its new name entered first")
        };
        assert_eq!(what, Renamed::Cluster);
        assert_eq!(
            *d, retired,
            "the retired name's deed is entered with the rename"
        );
        assert!(
            d.secret.is_none() && d.key.is_none() && d.properties.is_none(),
            "the clone's secret, key and properties stay with the clone: {d:?}"
        );
        assert_eq!(d.refresh_of.as_deref(), Some("clone-qa"));
        assert_eq!(d.cluster_id, "clone-qa-oab12cd");
        // RDS lags: neither name listed is a wait, never a conclusion.
        let gap = Names {
            clone: None,
            fresh: Some(&fresh),
            retired: None,
        };
        assert!(matches!(cut_over(&item(1), gap, &deed()), CutOver::Wait(_)));
        let serving = cluster("clone-qa", "clone-qa-rab12cd-writer");
        let after = Names {
            clone: Some(&serving),
            fresh: None,
            retired: None,
        };
        assert_eq!(cut_over(&item(2), after, &deed()), CutOver::Counted);
        assert!(matches!(
            cut_over(&item(3), after, &deed()),
            CutOver::Act(Action::Rename {
                what: Renamed::Instance,
                ..
            })
        ));
        let done = cluster("clone-qa", "clone-qa-writer");
        let end = Names {
            clone: Some(&done),
            fresh: None,
            retired: None,
        };
        assert_eq!(cut_over(&item(4), end, &deed()), CutOver::Finished);
    }

    #[test]
    fn names_go_back_the_way_they_came() {
        let aside = cluster("clone-qa-oab12cd", "clone-qa-oab12cd-writer");
        let names = Names {
            clone: None,
            fresh: None,
            retired: Some(&aside),
        };
        assert!(matches!(
            put_back(&item(2), names),
            Some(CutOver::Act(Action::Rename {
                what: Renamed::Cluster,
                ..
            }))
        ));
        let back = cluster("clone-qa", "clone-qa-oab12cd-writer");
        let names = Names {
            clone: Some(&back),
            fresh: None,
            retired: None,
        };
        assert!(matches!(
            put_back(&item(2), names),
            Some(CutOver::Act(Action::Rename {
                what: Renamed::Instance,
                ..
            }))
        ));
        let whole = cluster("clone-qa", "clone-qa-writer");
        let names = Names {
            clone: Some(&whole),
            fresh: None,
            retired: None,
        };
        assert_eq!(put_back(&item(2), names), None, "nothing left to put back");
    }
}
