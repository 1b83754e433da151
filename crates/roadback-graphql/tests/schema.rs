//! The contract: `schema.graphql` is the server's schema, and everything in it is described.

use async_graphql::Value;

fn repository_schema() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql");
    std::fs::read_to_string(path).expect("schema.graphql at the repository root")
}

#[test]
fn schema_graphql_is_the_servers_schema() {
    let server = roadback_graphql::sdl();
    assert!(
        repository_schema() == server,
        "schema.graphql differs from the server's schema: run `roadback schema > schema.graphql` and review the diff"
    );
}

const INTROSPECTION: &str = r#"{ __schema { types {
    name kind description
    fields(includeDeprecated: true) { name description args { name description } }
    inputFields { name description }
    enumValues(includeDeprecated: true) { name description }
} } }"#;

fn described(v: &serde_json::Value) -> bool {
    v["description"]
        .as_str()
        .is_some_and(|d| !d.trim().is_empty())
}

#[tokio::test]
async fn every_type_field_argument_and_value_has_a_description() {
    let db = roadback_store::testing::TestDatabase::sqlite();
    let schema = {
        let store = db.open().await;
        let keys =
            roadback_store::vault::Keyring::new(roadback_store::vault::MasterKey::generate());
        let vault = roadback_store::vault::Vault::new(store.clone(), keys);
        roadback_graphql::schema(roadback_graphql::ApiState::new(store, vault))
    };
    let response = schema.execute(INTROSPECTION).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = match response.data {
        Value::Object(_) => response.data.into_json().unwrap(),
        other => panic!("{other:?}"),
    };
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut missing = Vec::new();
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if !described(t) {
            missing.push(format!("type {name}"));
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            if !described(f) {
                missing.push(format!("field {name}.{}", f["name"]));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if !described(a) {
                    missing.push(format!("argument {name}.{}({})", f["name"], a["name"]));
                }
            }
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            if !described(f) {
                missing.push(format!("input field {name}.{}", f["name"]));
            }
        }
        for v in t["enumValues"].as_array().into_iter().flatten() {
            if !described(v) {
                missing.push(format!("value {name}.{}", v["name"]));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "without a description:\n{}",
        missing.join("\n")
    );
}

#[tokio::test]
async fn errors_of_the_graphql_engine_carry_a_code_too() {
    let db = roadback_store::testing::TestDatabase::sqlite();
    let store = db.open().await;
    let keys = roadback_store::vault::Keyring::new(roadback_store::vault::MasterKey::generate());
    let vault = roadback_store::vault::Vault::new(store.clone(), keys);
    let schema = roadback_graphql::schema(roadback_graphql::ApiState::new(store, vault));
    for query in [
        "{ noSuchField }",
        "{ me { user ",
        "query($x: Int!) { me { user { id } } }",
    ] {
        let response = schema.execute(query).await;
        assert!(!response.errors.is_empty(), "{query}");
        for error in &response.errors {
            let code = error
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .map(|c| c.to_string());
            assert_eq!(
                code.as_deref(),
                Some("\"VALIDATION\""),
                "{query}: {error:?}"
            );
        }
    }
}
