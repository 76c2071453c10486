//! Alternating batches and their statistics.
//!
//! Every round runs one batch of every (contender, scenario) job, in an order that rotates
//! from round to round (and reverses every other round), so that drift of the machine over
//! the run hits every contender alike. Each batch gives one sample: its mean time per
//! request.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::contender::Contender;
use crate::scenario::Scenario;
use crate::BoxError;

/// Summary of a series of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The median.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Summary {
    /// The summary of `samples` (`None` when there are none).
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return None;
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

/// The `q` quantile (0..=1) of `samples`, nearest rank.
pub fn quantile(samples: &mut [f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

/// How long the batches run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Rounds; each runs one batch of every job.
    pub rounds: usize,
    /// The time one batch should take (its request count is calibrated to it).
    pub batch_time: Duration,
    /// Bounds on a batch's request count.
    pub min_requests: u32,
    /// Upper bound.
    pub max_requests: u32,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            rounds: 60,
            batch_time: Duration::from_millis(10),
            min_requests: 30,
            max_requests: 20_000,
        }
    }
}

/// Nanoseconds per request of every job, sample by sample, and each job's batch size.
#[derive(Debug, Default)]
pub struct Samples {
    /// Per (contender index, scenario): nanoseconds per request, one per round.
    pub ns: BTreeMap<(usize, Scenario), Vec<f64>>,
    /// The same batches in the measuring thread's CPU time.
    pub cpu_ns: BTreeMap<(usize, Scenario), Vec<f64>>,
    /// Per (contender index, scenario): requests per batch.
    pub batch: BTreeMap<(usize, Scenario), u32>,
}

/// Warms every job up and sizes its batch so that it takes about `plan.batch_time`.
async fn calibrate(
    contenders: &[Contender],
    plan: &Plan,
) -> Result<BTreeMap<(usize, Scenario), u32>, BoxError> {
    let mut sizes = BTreeMap::new();
    for (index, contender) in contenders.iter().enumerate() {
        for scenario in Scenario::ALL {
            contender.batch(scenario, 50).await?;
            // The fastest of three probes: the one the machine disturbed least.
            let probe = 100;
            let mut took = Duration::MAX;
            for _ in 0..3 {
                took = took.min(contender.batch(scenario, probe).await?);
            }
            let per = took.as_secs_f64() / f64::from(probe);
            let size = (plan.batch_time.as_secs_f64() / per.max(1e-9)) as u32;
            sizes.insert(
                (index, scenario),
                size.clamp(plan.min_requests, plan.max_requests),
            );
        }
    }
    Ok(sizes)
}

/// Runs `plan.rounds` rounds over every contender and scenario; `progress` hears of each
/// finished round.
pub async fn alternate(
    contenders: &[Contender],
    plan: &Plan,
    mut progress: impl FnMut(usize, Duration),
) -> Result<Samples, BoxError> {
    let sizes = calibrate(contenders, plan).await?;
    let jobs: Vec<(usize, Scenario)> = sizes.keys().copied().collect();
    let mut samples = Samples {
        batch: sizes.clone(),
        ..Samples::default()
    };
    for round in 0..plan.rounds {
        let started = Instant::now();
        let mut order = jobs.clone();
        // A stride coprime with most job counts spreads neighbours apart across rounds.
        let shift = (round * 7) % order.len().max(1);
        order.rotate_left(shift);
        if round % 2 == 1 {
            order.reverse();
        }
        for (index, scenario) in order {
            let requests = sizes[&(index, scenario)];
            let took = contenders[index].timed(scenario, requests).await?;
            let per = |d: Duration| d.as_nanos() as f64 / f64::from(requests);
            samples
                .ns
                .entry((index, scenario))
                .or_default()
                .push(per(took.wall));
            samples
                .cpu_ns
                .entry((index, scenario))
                .or_default()
                .push(per(took.cpu));
        }
        progress(round, started.elapsed());
    }
    Ok(samples)
}
