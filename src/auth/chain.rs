//! [`AuthChain`]: several providers as one, by a rule stated up front.

use std::sync::Arc;

use crate::auth::{Action, AuthCredentials, AuthInterface};
use crate::error::Error;

/// How an [`AuthChain`] combines its providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChainRule {
    /// The first provider that knows the client ([`AuthInterface::knows`]) decides
    /// both its login and its actions; a client no provider knows is refused.
    FirstThatKnows,
    /// Every provider must accept the login, and every one allow the action.
    AllMustAgree,
}

/// Providers asked in order, combined by a [`ChainRule`].
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// use mqtt_common::auth::{AuthChain, ChainRule, FileAuth};
/// use mqtt_common::{AuthCredentials, AuthInterface};
///
/// // Two providers without files: each accepts named users.
/// let chain = AuthChain::new(
///     vec![Arc::new(FileAuth::new(false)), Arc::new(FileAuth::new(true))],
///     ChainRule::AllMustAgree,
/// );
/// assert!(chain.authenticate(&AuthCredentials::new("c")?.with_username("u")?)?);
/// assert!(!chain.authenticate(&AuthCredentials::new("anonymous")?)?);
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub struct AuthChain {
    providers: Vec<Arc<dyn AuthInterface>>,
    rule: ChainRule,
}

impl std::fmt::Debug for AuthChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthChain")
            .field("providers", &self.providers.len())
            .field("rule", &self.rule)
            .finish()
    }
}

impl AuthChain {
    /// A chain of `providers`, asked in this order.
    pub fn new(providers: Vec<Arc<dyn AuthInterface>>, rule: ChainRule) -> Self {
        Self { providers, rule }
    }

    /// The rule the chain decides by.
    pub fn rule(&self) -> ChainRule {
        self.rule
    }

    fn deciding(&self, credentials: &AuthCredentials) -> Result<Option<&dyn AuthInterface>, Error> {
        for provider in &self.providers {
            if provider.knows(credentials)? {
                return Ok(Some(provider.as_ref()));
            }
        }
        Ok(None)
    }
}

impl AuthInterface for AuthChain {
    fn authenticate(&self, credentials: &AuthCredentials) -> Result<bool, Error> {
        match self.rule {
            ChainRule::FirstThatKnows => match self.deciding(credentials)? {
                Some(provider) => provider.authenticate(credentials),
                None => Ok(false),
            },
            ChainRule::AllMustAgree => {
                for provider in &self.providers {
                    if !provider.authenticate(credentials)? {
                        return Ok(false);
                    }
                }
                Ok(!self.providers.is_empty())
            }
        }
    }

    fn authorize(
        &self,
        credentials: &AuthCredentials,
        topic: &str,
        action: Action,
    ) -> Result<bool, Error> {
        match self.rule {
            ChainRule::FirstThatKnows => match self.deciding(credentials)? {
                Some(provider) => provider.authorize(credentials, topic, action),
                None => Ok(false),
            },
            ChainRule::AllMustAgree => {
                for provider in &self.providers {
                    if !provider.authorize(credentials, topic, action)? {
                        return Ok(false);
                    }
                }
                Ok(!self.providers.is_empty())
            }
        }
    }

    fn knows(&self, credentials: &AuthCredentials) -> Result<bool, Error> {
        for provider in &self.providers {
            if provider.knows(credentials)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
