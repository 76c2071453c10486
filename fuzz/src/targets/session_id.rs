//! `IdPolicy::validate` with and without an HMAC key.
//!
//! Asserts, for a policy built from the input (length, prefix, key) and a candidate id:
//! - validate never accepts what `is_safe_id` rejects, nor an id of another length;
//! - a generated id validates, under its own policy only when keyed;
//! - with a key, a generated id with one character changed, or under a different key, is
//!   rejected (ids the server never issued are refused unseen);
//! - without a key, every lowercase-hex body of the right length behind the prefix passes.

use arbitrary::{Arbitrary, Result, Unstructured};
use session_core::id::is_safe_id;
use session_core::IdPolicy;

#[derive(Debug, Arbitrary)]
struct Input {
    random_len: u8,
    prefix: String,
    key: Option<Vec<u8>>,
    candidate: String,
    edit_at: u8,
    edit_to: char,
}

/// Runs the target on one input.
pub fn run(data: &[u8]) {
    // The whole input as a candidate under the default policies.
    let text = String::from_utf8_lossy(data);
    for policy in default_policies() {
        check_candidate(policy, &text);
    }
    let _ = structured(&mut Unstructured::new(data));
}

fn default_policies() -> &'static [IdPolicy; 2] {
    static POLICIES: std::sync::OnceLock<[IdPolicy; 2]> = std::sync::OnceLock::new();
    POLICIES.get_or_init(|| {
        [
            IdPolicy::new(16, "", None).expect("default policy"),
            IdPolicy::new(16, "", Some(b"fuzz-hash-key")).expect("keyed policy"),
        ]
    })
}

fn check_candidate(policy: &IdPolicy, candidate: &str) {
    if policy.validate(candidate) {
        assert!(
            is_safe_id(candidate),
            "validate accepted unsafe {candidate:?}"
        );
        assert_eq!(candidate.len(), policy.id_len(), "{candidate:?}");
    }
}

fn structured(u: &mut Unstructured<'_>) -> Result<()> {
    let input = Input::arbitrary(u)?;
    let random_len = usize::from(input.random_len % 40);
    let key = input.key.as_deref();
    let Ok(policy) = IdPolicy::new(random_len, &input.prefix, key) else {
        return Ok(());
    };
    // What `new` accepted is within the documented bounds.
    assert!(random_len >= 16 && policy.id_len() <= session_core::id::MAX_ID_LEN);
    assert!(input.prefix.is_empty() || is_safe_id(&input.prefix));
    check_candidate(&policy, &input.candidate);
    let id = policy.generate().expect("ids can be minted");
    assert_eq!(id.len(), policy.id_len());
    assert!(
        policy.validate(&id),
        "a generated id does not validate: {id:?}"
    );
    assert!(is_safe_id(&id));
    let keyed = key.is_some_and(|k| !k.is_empty());
    if keyed {
        let mut edited: Vec<char> = id.chars().collect();
        let at = input.prefix.len() + usize::from(input.edit_at) % (id.len() - input.prefix.len());
        if edited[at] != input.edit_to {
            edited[at] = input.edit_to;
            let edited: String = edited.into_iter().collect();
            assert!(
                !policy.validate(&edited),
                "an edited keyed id validates: {edited:?}"
            );
        }
        let mut other_key = key.unwrap_or_default().to_vec();
        other_key.push(0x5a);
        let other = IdPolicy::new(random_len, &input.prefix, Some(&other_key)).expect("same shape");
        assert!(!other.validate(&id), "an id validates under another key");
    } else {
        // Any lowercase-hex body passes an unkeyed policy: build one from the candidate.
        let body: String = input
            .candidate
            .bytes()
            .map(|b| char::from(b"0123456789abcdef"[usize::from(b % 16)]))
            .chain(std::iter::repeat('0'))
            .take(random_len * 2)
            .collect();
        let hex_id = format!("{}{body}", input.prefix);
        assert!(policy.validate(&hex_id), "{hex_id:?}");
        assert!(!policy.validate(&hex_id.to_uppercase()) || hex_id == hex_id.to_uppercase());
    }
    Ok(())
}
