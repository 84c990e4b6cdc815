//! The contract of [`AsyncAuthInterface`] (and so of every
//! [`AuthInterface`](crate::auth::AuthInterface) through an adapter).

use crate::auth::{Action, AsyncAuthInterface, AuthCredentials};

/// The examples of a provider's policy the auth contract checks, and the rules that hold
/// for any policy.
#[derive(Debug, Clone)]
pub struct AuthExamples {
    /// Credentials the provider accepts.
    pub accepted: AuthCredentials,
    /// Credentials the provider rejects.
    pub rejected: AuthCredentials,
    /// Something the provider allows: credentials, topic, action.
    pub allowed: (AuthCredentials, String, Action),
    /// Something the provider denies: credentials, topic, action.
    pub denied: (AuthCredentials, String, Action),
}

/// Runs every check of the auth contract: `provider` decides the examples as they say,
/// and `unconfigured` (the same provider with no users and no rules: an empty password
/// file and an empty ACL) refuses everything; panics at the first check that fails.
///
/// # Panics
/// When the provider breaks the contract (this is a test kit).
pub async fn auth_contract(
    provider: &impl AsyncAuthInterface,
    unconfigured: &impl AsyncAuthInterface,
    examples: &AuthExamples,
) {
    authenticate(provider, examples).await;
    authorize(provider, examples).await;
    cve_2017_7650_wildcards_in_identity_grant_nothing(provider, examples).await;
    cve_2018_12550_nothing_configured_allows_nothing(unconfigured, examples).await;
    cve_2018_12551_a_missing_password_is_not_a_password(provider, examples).await;
}

async fn decide(
    provider: &impl AsyncAuthInterface,
    (credentials, topic, action): &(AuthCredentials, String, Action),
    name: &str,
) -> bool {
    provider
        .authorize(credentials, topic, *action)
        .await
        .unwrap_or_else(|err| panic!("{name}: authorize failed: {err}"))
}

async fn authenticate(provider: &impl AsyncAuthInterface, examples: &AuthExamples) {
    let name = "authenticate";
    let accepted = provider.authenticate(&examples.accepted).await.expect(name);
    assert!(accepted, "{name}: the accepted example is refused");
    let rejected = provider.authenticate(&examples.rejected).await.expect(name);
    assert!(!rejected, "{name}: the rejected example is accepted");
    let again = provider.authenticate(&examples.accepted).await.expect(name);
    assert!(again, "{name}: asking twice gives the same answer");
}

async fn authorize(provider: &impl AsyncAuthInterface, examples: &AuthExamples) {
    let name = "authorize";
    assert!(
        decide(provider, &examples.allowed, name).await,
        "{name}: allowed is denied"
    );
    assert!(
        !decide(provider, &examples.denied, name).await,
        "{name}: denied is allowed"
    );
    assert!(
        decide(provider, &examples.allowed, name).await,
        "{name}: decisions are stable"
    );
}

async fn cve_2017_7650_wildcards_in_identity_grant_nothing(
    provider: &impl AsyncAuthInterface,
    examples: &AuthExamples,
) {
    let name = "cve_2017_7650: a client id or user name of '+' or '#' widens no pattern";
    let (credentials, topic, action) = &examples.denied;
    let username = credentials.username().unwrap_or("u");
    for (client_id, username) in [("c", "+"), ("#", username), ("+", "#")] {
        let mut wild = AuthCredentials::new(client_id)
            .and_then(|c| c.with_username(username))
            .expect(name);
        if let Some(password) = credentials.password() {
            wild = wild.with_password(password.clone());
        }
        let allowed = decide(provider, &(wild, topic.clone(), *action), name).await;
        assert!(!allowed, "{name} ({client_id}, {username})");
    }
}

async fn cve_2018_12550_nothing_configured_allows_nothing(
    unconfigured: &impl AsyncAuthInterface,
    examples: &AuthExamples,
) {
    let name = "cve_2018_12550: with nothing configured, nothing is allowed";
    let anyone = AuthCredentials::new("anyone").expect(name);
    for credentials in [&examples.accepted, &anyone] {
        let accepted = unconfigured.authenticate(credentials).await.expect(name);
        assert!(!accepted, "{name}: a login is accepted");
    }
    assert!(
        !decide(unconfigured, &examples.allowed, name).await,
        "{name}: an empty ACL allowed a topic"
    );
}

async fn cve_2018_12551_a_missing_password_is_not_a_password(
    provider: &impl AsyncAuthInterface,
    examples: &AuthExamples,
) {
    let name = "cve_2018_12551: a known user without a password is refused";
    let accepted = &examples.accepted;
    if accepted.password().is_none() {
        return; // no password to lose: the other checks apply
    }
    let bare = || {
        let credentials = AuthCredentials::new(accepted.client_id()).expect(name);
        match accepted.username() {
            Some(user) => credentials.with_username(user).expect(name),
            None => credentials,
        }
    };
    for credentials in [bare(), bare().with_password(Vec::new())] {
        let accepted = provider.authenticate(&credentials).await.expect(name);
        assert!(!accepted, "{name} ({:?})", credentials.password());
    }
}
