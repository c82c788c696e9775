/**
 * A one-sided sequential test that events (errors, or requests slower than a threshold) are no more frequent in the
 * canary than in the baseline, comparing both in the same windows, that may be looked at after every window without
 * inflating false positives.
 *
 * Model. In window t the canary serves n_c requests with e_c events and the baseline n_b with e_b, at event rates
 * λ_c and λ_b. Given the window's total E = e_c + e_b, each event is the canary's with probability
 *   π_t(ρ) = ρ·w_t / (ρ·w_t + 1 − w_t),   w_t = n_c / (n_c + n_b),   ρ = λ_c / λ_b.
 * The baseline's own level cancels out: windows in which both versions fail alike carry no evidence against the
 * canary, and the traffic share w_t may change from window to window (canary steps, noise).
 *
 * Hypotheses. H0: ρ <= ρ0 (the canary is at most ρ0 times as error-prone; ρ0 = 1 + tolerance). H1: ρ > ρ0.
 * For each alternative ρ_k = ρ0·m_k of a fixed grid (m_k > 1) the likelihood ratio over the windows seen so far
 *   L_k = Π_t (π_t(ρ_k) / π_t(ρ0))^e_c · ((1 − π_t(ρ_k)) / (1 − π_t(ρ0)))^e_b
 * is a nonnegative supermartingale with expectation <= 1 under H0: a martingale at ρ = ρ0, and for ρ < ρ0 each
 * factor's expectation is below 1 because the factor grows with e_c. Their average M = Σ_k L_k / K (a discrete
 * mixture SPRT) is one as well, so Ville's inequality gives P_H0(M_t >= 1/α for some t) <= α: rejecting the first
 * time M reaches 1/α keeps the false-positive rate under α however often one looks. 1 / max_s M_s is an
 * always-valid p-value; M itself is the e-value reported as evidence.
 *
 * Binomial rather than Poisson counts: at ρ0 = 1 the conditional law of e_c is hypergeometric, which is smaller than
 * the binomial in the convex order (Hoeffding 1963), so every factor still has expectation <= 1 and the test is exact.
 * For ρ0 > 1 the binomial is the rare-event limit; the odds are off by (1 − p)/(1 − ρ0·p), under 1.3% for event rates
 * up to the 5% at which a baseline counts as failing (the canary controller judges no such window).
 *
 * A grid instead of a conjugate prior because w_t changes between windows, which leaves no closed form; K log-ratios
 * per test are the whole state, so it serializes as JSON and an update costs O(K).
 */

/** Multiples of ρ0 the mixture bets on, equally weighted: from 25% worse up to a hundred times worse. */
export const DEFAULT_RATIO_GRID: readonly number[] = [1.25, 1.5, 2, 3, 5, 10, 25, 100];

export interface SplitTestConfig {
  /** ρ0: how many times the baseline's rate the canary may have before it counts as worse. */
  readonly nullRatio: number;
  /** Multiples (> 1) of ρ0 the mixture is spread over. */
  readonly grid: readonly number[];
}

export interface SplitTestState {
  /** log L_k per grid entry. */
  readonly logLr: readonly number[];
  /** The largest log M seen, for the always-valid p-value. */
  readonly maxLogMixture: number;
  readonly windows: number;
  readonly canaryEvents: number;
  readonly canaryTrials: number;
  readonly baselineEvents: number;
  readonly baselineTrials: number;
}

/** One window's counts, already divided by the sampling scale so that they are counts of observed requests. */
export interface SplitObservation {
  readonly canaryEvents: number;
  readonly canaryTrials: number;
  readonly baselineEvents: number;
  readonly baselineTrials: number;
}

export interface SplitTestVerdict {
  /** M, the mixture likelihood ratio: evidence against H0 in the e-value sense. */
  readonly eValue: number;
  /** min(1, 1 / max M): valid whenever it is read. */
  readonly pValue: number;
  readonly rejected: boolean;
  /** The pooled canary/baseline event-rate ratio, descriptive only; null while the baseline has no events. */
  readonly observedRatio: number | null;
}

export function newSplitTest(config: SplitTestConfig): SplitTestState {
  return {
    logLr: config.grid.map(() => 0),
    maxLogMixture: 0,
    windows: 0,
    canaryEvents: 0,
    canaryTrials: 0,
    baselineEvents: 0,
    baselineTrials: 0,
  };
}

/** The test after one more window; a window where either side served nothing carries no comparison and is skipped. */
export function updateSplitTest(state: SplitTestState, config: SplitTestConfig, obs: SplitObservation): SplitTestState {
  if (!(obs.canaryTrials > 0 && obs.baselineTrials > 0)) return state;
  const eventsC = clampEvents(obs.canaryEvents, obs.canaryTrials);
  const eventsB = clampEvents(obs.baselineEvents, obs.baselineTrials);
  const share = obs.canaryTrials / (obs.canaryTrials + obs.baselineTrials);
  const pi0 = splitProbability(config.nullRatio, share);
  const logLr = state.logLr.slice();
  if (eventsC + eventsB > 0) {
    for (let k = 0; k < logLr.length; k++) {
      const pik = splitProbability(config.nullRatio * (config.grid[k] ?? 1), share);
      logLr[k] = logLr[k]! + eventsC * Math.log(pik / pi0) + eventsB * Math.log((1 - pik) / (1 - pi0));
    }
  }
  const logM = logMixture(logLr);
  const next: SplitTestState = {
    logLr,
    maxLogMixture: Math.max(state.maxLogMixture, logM),
    windows: state.windows + 1,
    canaryEvents: state.canaryEvents + eventsC,
    canaryTrials: state.canaryTrials + obs.canaryTrials,
    baselineEvents: state.baselineEvents + eventsB,
    baselineTrials: state.baselineTrials + obs.baselineTrials,
  };
  mixtures.set(next, logM);
  return next;
}

/**
 * log M of states made by updateSplitTest, which computed it already: the verdict that follows every update reads it
 * instead of computing it again (states are never mutated, so the value stays right).
 */
const mixtures = new WeakMap<SplitTestState, number>();

/** Whether the test rejects H0 at level alpha, with the figures that go into evidence. */
export function splitTestVerdict(state: SplitTestState, alpha: number): SplitTestVerdict {
  const logM = mixtures.get(state) ?? logMixture(state.logLr);
  const observedRatio =
    state.baselineEvents > 0 && state.canaryTrials > 0
      ? state.canaryEvents / state.canaryTrials / (state.baselineEvents / state.baselineTrials)
      : null;
  return {
    eValue: Math.exp(logM),
    pValue: Math.min(1, Math.exp(-state.maxLogMixture)),
    // Once rejected, always rejected: the running maximum, not the current value, is what crossed 1/alpha.
    rejected: state.maxLogMixture >= Math.log(1 / alpha),
    observedRatio,
  };
}

/** The probability that an event is the canary's, given the rate ratio and the canary's share of requests. */
export function splitProbability(ratio: number, share: number): number {
  return (ratio * share) / (ratio * share + 1 - share);
}

/** log((1/K) Σ exp(x_k)), computed without overflow. */
function logMixture(logLr: readonly number[]): number {
  if (logLr.length === 0) return 0;
  let max = Number.NEGATIVE_INFINITY;
  for (const x of logLr) if (x > max) max = x;
  let sum = 0;
  for (const x of logLr) sum += Math.exp(x - max);
  return max + Math.log(sum / logLr.length);
}

function clampEvents(events: number, trials: number): number {
  return Math.min(Math.max(0, events), trials);
}
