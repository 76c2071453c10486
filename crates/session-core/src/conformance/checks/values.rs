//! Typed values, and what happens when they are read as the wrong type.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{config, ensure, finish, pass, start, CheckResult};
use crate::conformance::{Client, Env};
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    name: String,
    age: u32,
    tags: Vec<String>,
    manager: Option<Box<User>>,
}

fn user() -> User {
    User {
        name: "astaxie".into(),
        age: 30,
        tags: vec!["admin".into(), "go".into()],
        manager: Some(Box::new(User {
            name: "root".into(),
            age: 99,
            tags: vec![],
            manager: None,
        })),
    }
}

/// Numbers, strings, bytes, a list, a map and a nested struct survive a round trip
/// through storage.
pub(crate) async fn typed_values_round_trip(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let mut client = Client::new();
    let map: HashMap<String, i32> = [("one".to_owned(), 1), ("minus".to_owned(), -1)].into();
    let session = start(&h, &client).await?;
    session.set("i64", &i64::MIN).await?;
    session.set("u64", &u64::MAX).await?;
    session.set("f64", &1.5f64).await?;
    session.set("bool", &true).await?;
    session.set("text", "héllo, 世界").await?;
    session.set("list", &vec![1u32, 2, 3]).await?;
    session.set("map", &map).await?;
    session.set("user", &user()).await?;
    session.set("none", &Option::<u8>::None).await?;
    session
        .set("bytes", &serde_bytes::ByteBuf::from(vec![0u8, 255, 7]))
        .await?;
    finish(&session, &mut client).await?;

    let session = start(&h, &client).await?;
    ensure!(!session.is_new(), "the session was not found again");
    ensure!(
        session.get::<i64>("i64").await? == Some(i64::MIN),
        "i64 changed"
    );
    ensure!(
        session.get::<u64>("u64").await? == Some(u64::MAX),
        "u64 changed"
    );
    ensure!(session.get::<f64>("f64").await? == Some(1.5), "f64 changed");
    ensure!(
        session.get::<bool>("bool").await? == Some(true),
        "bool changed"
    );
    let text: Option<String> = session.get("text").await?;
    ensure!(
        text.as_deref() == Some("héllo, 世界"),
        "text changed: {text:?}"
    );
    ensure!(
        session.get::<Vec<u32>>("list").await? == Some(vec![1, 2, 3]),
        "list changed"
    );
    ensure!(
        session.get::<HashMap<String, i32>>("map").await? == Some(map),
        "map changed"
    );
    let got: Option<User> = session.get("user").await?;
    ensure!(got == Some(user()), "struct changed: {got:?}");
    ensure!(
        session.get::<Option<u8>>("none").await? == Some(None),
        "None changed"
    );
    let bytes: Option<serde_bytes::ByteBuf> = session.get("bytes").await?;
    ensure!(
        bytes.map(|b| b.into_vec()) == Some(vec![0, 255, 7]),
        "bytes changed"
    );
    ensure!(
        session.get::<i64>("absent").await?.is_none(),
        "an absent key has a value"
    );
    pass()
}

/// Reading a value as the wrong type is an error for that call only: the value, the other
/// keys and the stored session are untouched.
pub(crate) async fn wrong_type_is_an_error_and_harmless(env: Arc<Env>) -> CheckResult {
    let h = env.harness(config()).await?;
    let mut client = Client::new();
    let session = start(&h, &client).await?;
    session.set("n", "text").await?;
    session.set("user", &user()).await?;
    finish(&session, &mut client).await?;

    let session = start(&h, &client).await?;
    match session.get::<u64>("n").await {
        Err(Error::Decode { key, .. }) => ensure!(key == "n", "the error names key {key}"),
        other => {
            return Err(super::Failure(format!(
                "reading text as u64 gave {other:?}"
            )))
        }
    }
    ensure!(
        matches!(
            session.get::<Vec<u8>>("user").await,
            Err(Error::Decode { .. })
        ),
        "reading a struct as a list was not a decode error"
    );
    let n: Option<String> = session.get("n").await?;
    ensure!(n.as_deref() == Some("text"), "after a failed read n={n:?}");
    finish(&session, &mut client).await?;

    let session = start(&h, &client).await?;
    ensure!(
        !session.is_new(),
        "the session was lost after a failed read"
    );
    let n: Option<String> = session.get("n").await?;
    ensure!(n.as_deref() == Some("text"), "n={n:?} in the next request");
    ensure!(
        session.get::<User>("user").await? == Some(user()),
        "user changed"
    );
    pass()
}
