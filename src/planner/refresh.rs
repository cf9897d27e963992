//! A refresh in place, decided from what is seen: the request the new clone is made under (so
//! the same placement rules as a Create place it), the deeds of its helper clusters, and each
//! step of the cut-over.
//!
//! The cut-over renames four things, in this order: the old writer aside, the new writer to the
//! clone's writer name (both while their clusters still list them), the old cluster aside (its
//! new name entered in the ledger first), the new cluster to the clone's name.
//! `RefreshItem::renamed` counts the renames RDS accepted.
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

/// Renames accepted from which the new cluster has the clone's name: a refresh is not given up
/// (nor its names put back) past this point, only carried on.
pub const NO_RETURN: u8 = crate::domain::refresh::CUT_OVER_RENAMES;

/// The next step of the cut-over, by how many renames RDS accepted. The writers move first,
/// while both clusters still list them as members, then the clusters; the new cluster is judged
/// to serve under the clone's name when it lists the clone's writer name, or no member at all
/// (a listing that has not caught up with the rename), never the old writer's.
pub fn cut_over(item: &RefreshItem, seen: Names, retired_deed: &Deed) -> CutOver {
    let (w_clone, w_retired) = (
        writer_instance_id(&item.cluster_id),
        writer_instance_id(&item.retired_id),
    );
    let clone_writer = seen.clone.map(writer_of);
    let fresh_writer = seen.fresh.map(writer_of);
    let new_under_name = matches!(&clone_writer, Some(None))
        || clone_writer
            .as_ref()
            .is_some_and(|w| w.as_deref() == Some(w_clone.as_str()));
    match item.renamed {
        0 => match clone_writer {
            None => CutOver::Wait(format!("clone {} is not listed", item.cluster_id)),
            Some(Some(w)) if w == w_retired => CutOver::Counted,
            Some(Some(w)) => rename(Renamed::Instance, &w, &w_retired, None),
            Some(None) => CutOver::Counted,
        },
        1 => match fresh_writer {
            Some(Some(w)) if w == w_clone => CutOver::Counted,
            Some(Some(w)) => rename(Renamed::Instance, &w, &w_clone, None),
            _ => CutOver::Wait(format!("the new writer of {} is not listed", item.fresh_id)),
        },
        2 => match (seen.clone, seen.retired) {
            (Some(_), _) => rename(
                Renamed::Cluster,
                &item.cluster_id,
                &item.retired_id,
                Some(retired_deed.clone()),
            ),
            (None, Some(_)) => CutOver::Counted,
            (None, None) => CutOver::Wait(format!("{} is being renamed aside", item.cluster_id)),
        },
        3 => match (seen.fresh, new_under_name) {
            (Some(_), _) => rename(Renamed::Cluster, &item.fresh_id, &item.cluster_id, None),
            (None, true) => CutOver::Counted,
            (None, false) => CutOver::Wait(format!("{} is taking the clone's name", item.fresh_id)),
        },
        _ => match seen.clone {
            Some(c) if c.is_available() && new_under_name => CutOver::Finished,
            Some(c) if c.is_available() => CutOver::Wait(format!(
                "{} lists the writer {:?} under its name, not {w_clone}: waiting for the listing to catch up",
                c.id,
                clone_writer.flatten().unwrap_or_default()
            )),
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

/// What putting the names back does next, when a refresh is given up before the new cluster
/// took the clone's name: the old cluster back, the new writer's name back, the old writer's
/// name back. `None` once nothing is left to put back.
pub fn put_back(item: &RefreshItem, seen: Names) -> Option<CutOver> {
    let (w_clone, w_fresh, w_retired) = (
        writer_instance_id(&item.cluster_id),
        writer_instance_id(&item.fresh_id),
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
    if seen.fresh.and_then(writer_of).as_deref() == Some(w_clone.as_str()) {
        return Some(rename(Renamed::Instance, &w_clone, &w_fresh, None));
    }
    match seen.clone.map(writer_of) {
        Some(Some(w)) if w == w_retired => {
            Some(rename(Renamed::Instance, &w_retired, &w_clone, None))
        }
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
        let old = cluster("clone-qa", "clone-qa-writer");
        let fresh = cluster("clone-qa-rab12cd", "clone-qa-rab12cd-writer");
        let names = Names {
            clone: Some(&old),
            fresh: Some(&fresh),
            retired: None,
        };
        let act = |n: u8, names: Names| match cut_over(&item(n), names, &retired()) {
            CutOver::Act(Action::Rename { what, from, to, .. }) => (what, from, to),
            other => panic!("{n}: {other:?}"),
        };
        // The old writer goes aside, then the new writer takes its name.
        assert_eq!(
            act(0, names),
            (
                Renamed::Instance,
                "clone-qa-writer".into(),
                "clone-qa-oab12cd-writer".into()
            )
        );
        let aside = cluster("clone-qa", "clone-qa-oab12cd-writer");
        let names = Names {
            clone: Some(&aside),
            ..names
        };
        assert_eq!(
            cut_over(&item(0), names, &retired()),
            CutOver::Counted,
            "a lost reply's rename is seen"
        );
        assert_eq!(
            act(1, names),
            (
                Renamed::Instance,
                "clone-qa-rab12cd-writer".into(),
                "clone-qa-writer".into()
            )
        );
        let fresh_in = cluster("clone-qa-rab12cd", "clone-qa-writer");
        let names = Names {
            fresh: Some(&fresh_in),
            ..names
        };
        assert_eq!(cut_over(&item(1), names, &retired()), CutOver::Counted);
        // Then the old cluster, its new name entered in the ledger first.
        let CutOver::Act(Action::Rename {
            what,
            deed: Some(d),
            ..
        }) = cut_over(&item(2), names, &retired())
        else {
            panic!("the old cluster goes aside")
        };
        assert_eq!(what, Renamed::Cluster);
        assert_eq!(
            *d,
            retired(),
            "the retired name's deed is entered with the rename"
        );
        assert!(
            d.secret.is_none() && d.key.is_none() && d.properties.is_none(),
            "{d:?}"
        );
        assert_eq!(d.refresh_of.as_deref(), Some("clone-qa"));
        // RDS lags: neither name listed is a wait, never a conclusion.
        let gap = Names {
            clone: None,
            fresh: Some(&fresh_in),
            retired: None,
        };
        assert!(matches!(
            cut_over(&item(2), gap, &retired()),
            CutOver::Wait(_)
        ));
        assert_eq!(
            act(3, gap),
            (
                Renamed::Cluster,
                "clone-qa-rab12cd".into(),
                "clone-qa".into()
            )
        );
        // The old cluster still listed under the name (its old writer's name aside) is no sign.
        let lagging = Names {
            clone: Some(&aside),
            fresh: None,
            retired: None,
        };
        assert!(matches!(
            cut_over(&item(3), lagging, &retired()),
            CutOver::Wait(_)
        ));
        let serving = cluster("clone-qa", "clone-qa-writer");
        let after = Names {
            clone: Some(&serving),
            fresh: None,
            retired: None,
        };
        assert_eq!(cut_over(&item(3), after, &retired()), CutOver::Counted);
        assert_eq!(cut_over(&item(4), after, &retired()), CutOver::Finished);
        // A listing that lost the members of a renamed cluster (moto does) still finishes.
        let bare = Cluster::new("clone-qa", "available");
        let bare = Names {
            clone: Some(&bare),
            fresh: None,
            retired: None,
        };
        assert_eq!(cut_over(&item(4), bare, &retired()), CutOver::Finished);
    }

    fn retired() -> Deed {
        helper_deed(&deed(), &item(2), &item(2).retired_id, None, 5)
    }

    #[test]
    fn names_go_back_the_way_they_came() {
        let aside = cluster("clone-qa-oab12cd", "clone-qa-oab12cd-writer");
        let fresh_in = cluster("clone-qa-rab12cd", "clone-qa-writer");
        let names = Names {
            clone: None,
            fresh: Some(&fresh_in),
            retired: Some(&aside),
        };
        let back = |names: Names| match put_back(&item(3), names) {
            Some(CutOver::Act(Action::Rename { what, from, to, .. })) => (what, from, to),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            back(names),
            (
                Renamed::Cluster,
                "clone-qa-oab12cd".into(),
                "clone-qa".into()
            )
        );
        let old_back = cluster("clone-qa", "clone-qa-oab12cd-writer");
        let names = Names {
            clone: Some(&old_back),
            fresh: Some(&fresh_in),
            retired: None,
        };
        assert_eq!(
            back(names),
            (
                Renamed::Instance,
                "clone-qa-writer".into(),
                "clone-qa-rab12cd-writer".into()
            )
        );
        let fresh_out = cluster("clone-qa-rab12cd", "clone-qa-rab12cd-writer");
        let names = Names {
            clone: Some(&old_back),
            fresh: Some(&fresh_out),
            retired: None,
        };
        assert_eq!(
            back(names),
            (
                Renamed::Instance,
                "clone-qa-oab12cd-writer".into(),
                "clone-qa-writer".into()
            )
        );
        let whole = cluster("clone-qa", "clone-qa-writer");
        let names = Names {
            clone: Some(&whole),
            fresh: Some(&fresh_out),
            retired: None,
        };
        assert_eq!(put_back(&item(3), names), None, "nothing left to put back");
    }
}
