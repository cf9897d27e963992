use super::*;
use serde_json::json;

fn parse(v: Value) -> Result<CloneProperties, PropertyError> {
    CloneProperties::parse(&v)
}

#[test]
fn minimal_properties_take_the_defaults() {
    let p = parse(json!({"ServiceToken": "arn:x", "SourceClusterId": "Orders"})).unwrap();
    assert_eq!(p.source_cluster_id, "orders");
    assert!(p.copy_ok);
    assert!(!p.set_password);
    assert!(p.purge_obsolete_copies);
    assert_eq!(p.cluster_id, None);
    assert!(p.tags.is_empty());
}

/// Defect 1: `CopyOk: false` could not be set, because any string counted as true.
#[test]
fn booleans_are_parsed_strictly() {
    assert!(
        !parse(json!({"SourceClusterId": "o", "CopyOk": "false"}))
            .unwrap()
            .copy_ok
    );
    assert!(
        !parse(json!({"SourceClusterId": "o", "CopyOk": "FALSE"}))
            .unwrap()
            .copy_ok
    );
    assert!(
        parse(json!({"SourceClusterId": "o", "SetPassword": "True"}))
            .unwrap()
            .set_password
    );
    for bad in ["yes", "0", "1", "", "no"] {
        let r = parse(json!({"SourceClusterId": "o", "CopyOk": bad}));
        if bad.is_empty() {
            // An empty string is CloudFormation's way of leaving a property unset.
            assert!(r.unwrap().copy_ok);
            continue;
        }
        let e = r.unwrap_err();
        assert_eq!(e.property, "CopyOk");
        assert!(e.rule.contains("true or false"), "{e}");
    }
}

#[test]
fn source_is_required_and_checked() {
    assert_eq!(parse(json!({})).unwrap_err().property, "SourceClusterId");
    assert_eq!(
        parse(json!({"SourceClusterId": "1bad"}))
            .unwrap_err()
            .property,
        "SourceClusterId"
    );
    let e = parse(json!({"SourceClusterId": "o", "ClusterId": "a".repeat(64)})).unwrap_err();
    assert_eq!(e.property, "ClusterId");
    assert!(e.rule.contains("63"), "{e}");
}

#[test]
fn lists_accept_json_and_commas() {
    let a = "arn:aws:iam::123456789012:role/dev";
    let b = "arn:aws:iam::123456789012:user/ci";
    let want = vec![a.to_string(), b.to_string()];
    for v in [
        json!([a, b]),
        json!(format!("[\"{a}\",\"{b}\"]")),
        json!(format!("{a}, {b}")),
    ] {
        assert_eq!(
            parse(json!({"SourceClusterId": "o", "AccessPrincipalArns": v}))
                .unwrap()
                .access_principal_arns,
            want
        );
    }
    let e = parse(json!({"SourceClusterId": "o", "AccessPrincipalArns": "*"})).unwrap_err();
    assert_eq!(e.property, "AccessPrincipalArns");
}

#[test]
fn misspelt_secret_prefix_is_an_alias() {
    let p = parse(json!({"SourceClusterId": "o", "SecretpPrefix": "/team/"})).unwrap();
    assert_eq!(p.secret_prefix.as_deref(), Some("/team/"));
    let p =
        parse(json!({"SourceClusterId": "o", "SecretpPrefix": "/old/", "SecretPrefix": "/new/"}))
            .unwrap();
    assert_eq!(p.secret_prefix.as_deref(), Some("/new/"));
}

#[test]
fn times_classes_tags_and_timeouts() {
    let p = parse(json!({"SourceClusterId": "o", "CopyCreatedSince": "2024-05-01T12:00:00Z",
        "InstanceClass": "db.t4g.medium", "Tags": {"team": "orders", "n": 3}, "ServiceTimeout": "900"}))
    .unwrap();
    assert_eq!(
        p.copy_created_since.unwrap().unix_timestamp(),
        1_714_564_800
    );
    assert_eq!(p.tags.get("n").map(String::as_str), Some("3"));
    assert_eq!(p.service_timeout, Some(900));
    let p = parse(json!({"SourceClusterId": "o", "Tags": [{"Key": "a", "Value": "b"}], "CopyCreatedSince": "2024-05-01"})).unwrap();
    assert_eq!(p.tags.get("a").map(String::as_str), Some("b"));
    assert_eq!(
        p.copy_created_since.unwrap().unix_timestamp(),
        1_714_521_600
    );
    for (key, bad) in [
        ("CopyCreatedSince", json!("yesterday")),
        ("InstanceClass", json!("r6g.large")),
        ("Tags", json!("a=b")),
        ("ServiceTimeout", json!("7200")),
        ("Tags", json!({"aws:x": "y"})),
    ] {
        let mut props = json!({"SourceClusterId": "o"});
        props[key] = bad;
        assert_eq!(parse(props).unwrap_err().property, key);
    }
}
