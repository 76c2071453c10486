//! Stable placement: the same ids land on the same servers in another process and in the
//! table committed below (so in every build and with every compiler), removing a server
//! moves only its own ids, and the engine stores each session where the placement says.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use session_memcache::Placement;

const THREE: [&str; 3] = ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211"];

/// Set in the child process that prints its placement for the parent.
const CHILD_VAR: &str = "SESSION_MEMCACHE_PLACEMENT_CHILD";

/// The `n`th of a fixed set of session-like ids (32 hex characters).
fn id(n: u64) -> String {
    let a = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let b = a.rotate_left(29).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    format!("{a:016x}{b:016x}")
}

fn placement(count: u64) -> BTreeMap<String, usize> {
    (0..count)
        .map(|n| {
            let id = id(n);
            let server = Placement::server_for(id.as_bytes(), &THREE);
            (id, server)
        })
        .collect()
}

/// Where the first ids of the set live on [`THREE`], computed with the reference XXH3 (the
/// C library, through Python's `xxhash` package), not with this crate. A change here would
/// move every stored session: it must never happen.
const COMMITTED: [usize; 24] = [
    0, 1, 0, 0, 1, 1, 2, 0, 1, 0, 2, 0, 0, 1, 0, 0, 2, 2, 0, 2, 1, 0, 2, 0,
];

#[test]
fn ids_land_where_the_committed_table_says() {
    let got: Vec<usize> = (0..COMMITTED.len() as u64)
        .map(|n| Placement::server_for(id(n).as_bytes(), &THREE))
        .collect();
    assert_eq!(got, COMMITTED, "the placement of sessions changed");
}

/// Prints the placement of the fixed id set, for the parent test below; in a normal run it
/// checks the set is what the parent compares (1000 distinct ids over all three servers).
#[test]
fn print_placement() {
    let placed = placement(1000);
    assert_eq!(placed.len(), 1000, "the fixed ids are not distinct");
    for server in 0..THREE.len() {
        assert!(
            placed.values().any(|&s| s == server),
            "server {server} got no id"
        );
    }
    if std::env::var_os(CHILD_VAR).is_some() {
        for (id, server) in &placed {
            println!("placed {id} {server}");
        }
    }
}

#[test]
fn another_process_places_the_same_ids_on_the_same_servers() {
    let exe = std::env::current_exe().expect("the test binary");
    let output = Command::new(exe)
        .args([
            "--exact",
            "print_placement",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, "1")
        .output()
        .expect("running the test binary again");
    assert!(output.status.success(), "the child failed: {output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let theirs: BTreeMap<String, usize> = stdout
        .lines()
        // The harness may print `test print_placement ... ` in front of the first line.
        .filter_map(|line| line.split_once("placed ").map(|(_, rest)| rest))
        .map(|rest| {
            let (id, server) = rest.split_once(' ').expect("`id server`");
            (id.to_owned(), server.parse().expect("a server index"))
        })
        .collect();
    assert_eq!(theirs.len(), 1000, "the child printed {} ids", theirs.len());
    assert_eq!(theirs, placement(1000));
}

#[test]
fn removing_one_of_three_servers_moves_only_its_ids() {
    let two = [THREE[0], THREE[2]];
    let (mut moved, mut to) = (0, [0usize; 2]);
    for n in 0..3000 {
        let id = id(n);
        let before = THREE[Placement::server_for(id.as_bytes(), &THREE)];
        let after = two[Placement::server_for(id.as_bytes(), &two)];
        if before == THREE[1] {
            moved += 1;
            to[two.iter().position(|s| *s == after).unwrap()] += 1;
        } else {
            assert_eq!(after, before, "{id} moved though its server stayed");
        }
    }
    assert!(
        (800..1200).contains(&moved),
        "{moved} of 3000 ids lived on the removed server"
    );
    assert!(
        to.iter().all(|&n| n > moved / 4),
        "the removed server's ids went {to:?}"
    );
}

#[test]
fn adding_a_server_takes_ids_only_for_itself() {
    let four = [THREE[0], THREE[1], THREE[2], "10.0.0.4:11211"];
    let mut taken = 0;
    for n in 0..3000 {
        let id = id(n);
        let before = THREE[Placement::server_for(id.as_bytes(), &THREE)];
        let after = four[Placement::server_for(id.as_bytes(), &four)];
        if after == four[3] {
            taken += 1;
        } else {
            assert_eq!(after, before, "{id} moved between the old servers");
        }
    }
    assert!(
        (550..950).contains(&taken),
        "the new server took {taken} of 3000 ids"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_stores_each_session_on_its_placed_server() {
    let Some(list) = common::servers("the_engine_stores_each_session_on_its_placed_server") else {
        return;
    };
    let servers = common::names(&list);
    let manager = common::manager(&list, 60).await;
    let mut used = vec![0; servers.len()];
    for i in 0..20 {
        let (_, sid) = common::stored(&manager, "i", i).await;
        let home = common::home(&servers, &sid);
        for (index, server) in servers.iter().enumerate() {
            let there = common::item(server, &sid).await.is_some();
            assert_eq!(there, server == home, "session {i} on {server}: {there}");
            used[index] += usize::from(there);
        }
    }
    assert!(
        used.iter().all(|&n| n > 0),
        "20 sessions over {servers:?}: {used:?}"
    );
}
