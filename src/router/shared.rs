//! Picking one member of a shared subscription's group for each message.

use std::collections::HashMap;
use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher, RandomState};

use crate::router::config::SharedChoice;

/// The state a [`SharedChoice`] needs: a turn per group, a random source.
#[derive(Debug)]
pub(crate) struct Chooser {
    choice: SharedChoice,
    turns: HashMap<String, usize>,
    random: RandomState,
    draws: u64,
}

impl Chooser {
    pub(crate) fn new(choice: SharedChoice) -> Self {
        Self {
            choice,
            turns: HashMap::new(),
            random: RandomState::new(),
            draws: 0,
        }
    }

    /// The index of the member of `group` (its `$share/...` filter) that gets a message
    /// from `publisher`, among `members` (never empty).
    pub(crate) fn choose(&mut self, group: &str, members: usize, publisher: Option<&str>) -> usize {
        match self.choice {
            SharedChoice::RoundRobin => {
                let turn = match self.turns.get_mut(group) {
                    Some(turn) => turn,
                    None => self.turns.entry(group.to_owned()).or_insert(0),
                };
                let chosen = *turn % members;
                *turn = turn.wrapping_add(1);
                chosen
            }
            SharedChoice::Random => {
                // The process's randomly keyed hasher over a counter: uniform enough to
                // spread load; nothing here needs to be unpredictable.
                self.draws = self.draws.wrapping_add(1);
                let draw = self.random.hash_one(self.draws);
                bucket(draw, members)
            }
            SharedChoice::Sticky => {
                // Fixed keys: the same publisher lands on the same member in every run.
                let mut hasher = DefaultHasher::new();
                publisher.unwrap_or("").hash(&mut hasher);
                group.hash(&mut hasher);
                bucket(hasher.finish(), members)
            }
        }
    }

    /// Forgets a group's turn (its last member left).
    pub(crate) fn forget(&mut self, group: &str) {
        self.turns.remove(group);
    }
}

/// `value` spread over `members` buckets.
fn bucket(value: u64, members: usize) -> usize {
    // `members` is at least 1 and fits in u64; the remainder is below it.
    usize::try_from(value % members.max(1) as u64).unwrap_or(0)
}
