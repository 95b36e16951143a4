"""A reference implementation of the monthly model: one Mesa agent per household.

:class:`vraagvolgend.MunicipalityModel` keeps its households as columns of numpy arrays and
runs each month as a few vectorised processes. This file computes the *same model* the way a
typical Mesa 3.5 user would write it: every household is a ``mesa.Agent`` holding its own state
in Python floats, lists and dicts, reaches its neighbours through object references, and
decides with its own scalar random draws. It exists for two reasons:

1. to check that the vectorised library computes the model it documents (the two agree only
   statistically: they draw different random numbers; see ``tests/test_reference.py``), and
2. as the baseline of a speed benchmark (so it is written to be plain and idiomatic, not fast).

What is shared with the library, so that both start from identical households:

* the population (:func:`vraagvolgend.build_households`), the network
  (:func:`vraagvolgend.build_network`) and the initial severities
  (:meth:`vraagvolgend.problems.ProblemDynamics.initial_severity`), built from
  ``vraagvolgend.Streams(seed)`` exactly as ``MunicipalityModel.__init__`` does;
* two household traits drawn once, like the population: persistent problems (the library's
  draw, whose chance follows the household type's risk) and avoiding help;
* every parameter, read from the :class:`~vraagvolgend.Scenario` and the
  :class:`~vraagvolgend.financing.Policy`, and the gatekeeper's product tables.

Everything that happens in a month is this file's own per-agent code. One month
(:meth:`ReferenceModel.advance_month`) is a synchronous update in stages, each a pass over the
agents (``self.agents.do(...)``) or a model-level allocation:

1. ``step``: each household draws its life event and, from last month's state, decides
   whether it seeks help, through which channel, and what the gatekeeper offers it;
2. the model admits the requests within each provision's capacity (collective first, then
   individual; a full collective provision refers on, a full individual one keeps a waiting
   list), starts episodes and bills the month;
3. ``share_need``, ``give``, ``receive``: informal support needs two rounds of messages over the
   network (a giver sizes its offer from the need around it, a receiver then collects its
   share), after which each household computes its next severities and strain;
4. ``advance``: each household commits its next state and runs the end of the month of formal
   care: the episode lifecycle (youth care escalating to residential care; the months each
   episode's goal has held; end on goal once it has held for longer than the exit lag, except
   for a chronic need; reviews, on ``chronic_review_months`` for a chronic need and
   ``review_months`` for any other, that end, renew or prolong, and wait for the lag where
   the goal is reached but not yet held) and social assistance;
5. the model books the month's costs and applies the budget rule at a year end.

Random numbers are scalar draws from the model's seeded ``random.Random`` (``agent.random``
in Mesa), made only where a decision needs one; the library draws whole arrays from its own
streams, so the two agree in distribution, not run by run.

Only the two built-in regimes are reproduced (:class:`~vraagvolgend.SupplyDriven`,
:class:`~vraagvolgend.DemandDriven` and their parameter variants: contract, levers, budget
rule, every lifecycle parameter); a subclass that overrides a rule method is not, nor are a
:class:`~vraagvolgend.PolicySwitch`, a contract or budget rule of a user's own, a catalogue
with other routing than the default's (the routing is written out below), a user's own
processes, forks, or the episode ledger (only the aggregates are kept).

Example:
    >>> import vraagvolgend as vv
    >>> s = vv.Scenario.default().with_changes(n_households=200, burn_in_months=2)
    >>> m = ReferenceModel(s, "demand-driven", rng=1)
    >>> m.run_for(2)
    >>> int(m.time), len(m.aggregates()["served"]["wmo"])
    (2, 2)
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import mesa

import vraagvolgend as vv
from vraagvolgend.domains import DOMAINS, HOUSEHOLD_TYPES
from vraagvolgend.financing import DemandDriven, Policy, SupplyDriven, resolve_policy
from vraagvolgend.problems import ProblemDynamics
from vraagvolgend.rng import as_seed_sequence
from vraagvolgend.vocabulary import CHANNELS, INDIVIDUAL_LAWS, LAWS


def _dynamics(scenario, households, streams) -> ProblemDynamics:
    dynamics = ProblemDynamics()
    dynamics.setup(scenario, households, streams)
    return dynamics


# The default catalogue's routing, written out independently of the library's routing tables
# (the library reads it from data/provisions.toml): light and heavy product per domain, and
# the thresholds of the heavier offers and of social assistance.
LIGHT_PRODUCT = {
    "finances": "debt_help",
    "work": "social_work",
    "housing": "social_work",
    "mental_health": "social_work",
    "physical_health": "aids",
    "parenting": "school_social_work",
    "social_isolation": "community_activities",
}
HEAVY_PRODUCT = {
    "finances": "individual_support",
    "work": "reintegration",
    "housing": "individual_support",
    "mental_health": "individual_support",
    "physical_health": "household_help",
    "parenting": "youth_ambulant",
    "social_isolation": "day_activities",
}
RESIDENTIAL_THRESHOLD = 0.667
#: Provisions priced per young person: a household pays the price for each of its children.
PER_YOUNG_PERSON = ("youth_ambulant", "youth_residential")
SHELTERED_THRESHOLD = 0.7
SHELTERED_MENTAL_THRESHOLD = 0.6
BENEFIT_WORK_THRESHOLD = 0.373
BENEFIT_MAX_QUINTILE = 2

__all__ = ["COST_KEYS", "Household", "ReferenceModel", "library_aggregates"]

D = len(DOMAINS)
FINANCES, WORK, HOUSING, MENTAL_HEALTH, _, PARENTING, _ = range(D)
#: Cost keys of the aggregates: the laws, access, and the social-assistance benefit on its own.
COST_KEYS = ("collective", "jeugdwet", "wmo", "participatiewet", "access", "benefit")


@dataclass(frozen=True)
class ProvisionInfo:
    """What the model needs to know of one catalogue provision."""

    name: str
    law: str
    effects: tuple[tuple[int, float], ...]  # (domain, extra recovery at intensity 1)
    mitigation: float
    cost_month: float
    duration: int
    base_capacity: float  # concurrent places at collective_capacity 1
    volunteer_share: float

    @property
    def collective(self) -> bool:
        return self.law == "collective"

    @property
    def billed_individually(self) -> bool:
        # The benefit and the flexible budget are never held as a running provision.
        return not self.collective and self.name not in ("benefit", "flexible_budget")


@dataclass
class Episode:
    """A running provision of one household for one domain."""

    provision: ProvisionInfo
    left: int  # months until its end (supply-driven) or review (demand-driven)
    months_in: int
    intensity: float
    upcoded: bool
    start: int
    channel: str
    chronic: bool = False  # a chronic need: reviewed on its own interval, never ended on goal
    goal_months: int = 0  # months its goal has held without a break


@dataclass
class WaitingPlace:
    """A place on a provision's waiting list."""

    provision: ProvisionInfo
    since: int
    channel: str


@dataclass(frozen=True)
class LifeEventInfo:
    """A life event's parameters, with domains as indices."""

    rate: float
    household_types: frozenset[str]
    vulnerability_effect: float
    severity_effect: tuple[tuple[int, float], ...]
    impact: tuple[tuple[int, float], ...]


def _nonzero(mapping) -> tuple[tuple[int, float], ...]:
    """Mapping of domain name to value → ((domain index, value), …) for the non-zero values."""
    return tuple((DOMAINS.index(d), float(v)) for d, v in mapping.items() if v != 0)


def plan_intensity(policy: Policy, severity: float) -> float:
    """The package's intensity (1 = the catalogue's standard package).

    A demand-driven plan is sized to need; a supply-driven product is the standard package.
    """
    if isinstance(policy, DemandDriven):
        sized = severity / policy.reference_severity
        return min(max(sized, policy.min_intensity), policy.max_intensity)
    return 1.0


def next_review(policy: Policy, provision: ProvisionInfo, chronic: bool) -> int:
    """Months until an episode's first (or next) review, before the contract's response.

    A chronic need follows ``chronic_review_months``, any other need ``review_months``; 0
    means the provision's typical duration (the length of an indication).
    """
    interval = policy.chronic_review_months if chronic else policy.review_months
    return interval if interval > 0 else provision.duration


def exit_lag(policy: Policy, provision: ProvisionInfo) -> int:
    """Months an episode's goal must hold before it ends (``exit_lag_months``), as the
    contract stretches or shortens it for individual provisions."""
    lag = policy.exit_lag_months
    if not provision.billed_individually:
        return lag
    c = policy.contracts
    if policy.contract == "effort":
        return round((lag + 1) * (1 + c.effort_prolongation)) - 1
    if policy.contract == "output":
        return max(round((lag + 1) * (1 - c.output_shortening)) - 1, 0)
    return lag


def contract_response(policy: Policy, individual: bool, months: int, intensity: float):
    """How providers respond to the contract type.

    Args:
        policy: The policy in effect (its contract type and :class:`~vraagvolgend.Contracts`).
        individual: Whether the provision is billed per client (not a lump sum).
        months: Months until the episode's end or review, before the response.
        intensity: Care intensity, before the response.

    Returns:
        (months, intensity) of the episode.
    """
    c = policy.contracts
    if policy.contract == "effort":
        factor = 1 + c.effort_prolongation  # price × hours pays to prolong
    elif policy.contract == "output":
        factor = 1 - c.output_shortening  # a price per trajectory pays to end early
    else:
        factor = 1.0
        if individual:  # a lump sum pays to do less per client
            intensity *= 1 - c.task_under_treatment
    if individual:
        # round() rounds halves to even, like numpy's rint in the library
        months = max(round(months * factor), 1)
    return months, intensity


class Household(mesa.Agent):
    """One household: its own problems, carer strain, ties, and formal care.

    Args:
        model: The :class:`ReferenceModel`.
        household_type: One of :data:`vraagvolgend.HOUSEHOLD_TYPES`.
        n_children: Number of children.
        n_persons: Household size.
        income_quintile: 1 (lowest) … 5.
        vulnerability: Latent vulnerability.
        deprivation: Deprivation of the household's neighbourhood.
        severity: Initial severity per domain.
        persistent: Its problems in ``problems.persistent_domains`` recover slowly.
        avoider: It never seeks help itself.
    """

    def __init__(
        self,
        model: ReferenceModel,
        *,
        household_type: str,
        n_children: int,
        n_persons: int,
        income_quintile: int,
        vulnerability: float,
        deprivation: float,
        severity: list[float],
        persistent: bool = False,
        avoider: bool = False,
    ):
        super().__init__(model)
        sc = model.scenario_params
        p = sc.problems
        self.household_type = household_type
        self.has_children = n_children > 0
        self.n_children = n_children
        self.persistent = persistent  # persistent problems in p.persistent_domains
        # Its needs in the chronic domains are chronic (household help of the oldest)
        self.chronic_type = household_type in sc.access.chronic_types
        self.n_persons = n_persons
        self.income_quintile = income_quintile
        self.severity = list(severity)
        self.strain = 0.0
        self.neighbours: list[tuple[Household, float]] = []  # filled in by the model

        # Constant part of the onset hazard per domain (parenting only with children)
        factor = math.exp(
            p.vulnerability_effect * vulnerability + p.deprivation_effect * deprivation
        )
        risk = p.type_risk.get(household_type, {})
        self.onset_base = [p.onset_rate[d] * risk.get(d, 1.0) * factor for d in DOMAINS]
        for i, d in enumerate(DOMAINS):  # a domain's own income gradient
            self.onset_base[i] *= math.exp(p.income_effect.get(d, 0.0) * (3 - income_quintile) / 2)
        if not self.has_children:
            self.onset_base[PARENTING] = 0.0
        self.event_base = [
            ev.rate * math.exp(ev.vulnerability_effect * vulnerability)
            if household_type in ev.household_types
            else 0.0
            for ev in model.events
        ]
        self.support_capacity = sc.support.capacity[household_type]
        self.avoider = avoider  # never seeks help itself (outreach may find it)

        # Formal care
        self.care: dict[int, Episode] = {}  # domain → running provision
        self.waiting: dict[int, WaitingPlace] = {}  # domain → waiting-list place
        self.on_benefit = False

        # This month's decisions (written in one stage, read in a later one)
        self.event: int | None = None
        self.requests: dict[int, ProvisionInfo] = {}
        self.channel = ""
        self.flexible = False
        self.tiebreak = 0.0
        self.activation = 0.0
        self.need = self.pull = self.spare = self.given = self.per_unit_need = 0.0
        self.stacking_relief = 0.0
        self.next_severity = self.severity
        self.next_strain = 0.0

    # --- 1. decide from last month's state --------------------------------------------------

    def step(self) -> None:
        """Draw this month's life event; seek help and get the gatekeeper's offer."""
        self.event = self._life_event()
        self.requests = {}
        self.flexible = False
        if self.model.policy is not None:
            self._seek_help()

    def _life_event(self) -> int | None:
        # At most one event a month: the first whose cumulative probability exceeds the draw.
        u = self.random.random()
        cumulative = 0.0
        s = self.severity
        for k, ev in enumerate(self.model.events):
            if self.event_base[k] == 0.0:
                continue
            hazard = self.event_base[k] * math.exp(sum(c * s[d] for d, c in ev.severity_effect))
            cumulative += -math.expm1(-hazard)
            if u < cumulative:
                return k
        return None

    def _seek_help(self) -> None:
        m = self.model
        acc = m.scenario_params.access
        pol = m.policy
        s = self.severity
        rnd = self.random.random
        needs = [
            d
            for d in range(D)
            if s[d] >= acc.need_threshold and d not in self.care and d not in self.waiting
        ]
        if not needs:
            return
        worst = max(s[d] for d in needs)
        p_seek = min(max(acc.seek_base + acc.seek_slope * (worst - acc.need_threshold), 0.0), 1.0)
        seeks = not self.avoider and rnd() < p_seek
        found = not seeks and rnd() < pol.outreach
        if not (seeks or found):
            m.hidden_need += 1
            return
        if found:
            self.channel = "outreach"
            m.month_costs["access"] += pol.outreach_cost
        else:
            # The school is a channel only for parenting needs.
            school = PARENTING in needs and self.has_children
            channels = [c for c in CHANNELS if school or c != "school"]
            weights = [acc.channel_shares[c] for c in channels]
            self.channel = self.random.choices(channels, weights=weights)[0]

        # The regime picks which needy domains are treated now.
        if isinstance(pol, DemandDriven):
            # Root causes first, never more than max_parallel domains in care at once.
            ranked = sorted(needs, key=m.root_rank.__getitem__)
            treat = ranked[: max(pol.max_parallel - len(self.care), 0)]
        else:
            treat = needs
        if not treat:
            return

        # The gatekeeper: light needs to the light product, heavy ones to an individual one.
        direct = self.channel == "gp" and rnd() < acc.gp_direct_referral
        induced_share = pol.contracts.effort_induced_referral if pol.contract == "effort" else 0.0
        induced = rnd() < induced_share  # the provider refers the household's light needs on
        catalogue = m.catalogue
        for d in treat:
            light = s[d] < acc.collective_limit
            offer = m.light[d] if light and not direct and not induced else m.heavy[d]
            if d == PARENTING:
                if pol.practice_support_youth and self.channel == "gp" and light:
                    offer = catalogue["practice_support_youth"]
                if s[d] >= RESIDENTIAL_THRESHOLD:
                    offer = catalogue["youth_residential"]
            if (
                d == HOUSING
                and s[HOUSING] >= SHELTERED_THRESHOLD
                and s[MENTAL_HEALTH] >= SHELTERED_MENTAL_THRESHOLD
            ):
                offer = catalogue["sheltered_housing"]
            self.requests[d] = offer
        self.tiebreak = rnd()

        # Access conversations: one per law involved, or one long integrated conversation.
        n_laws = len({p.law for p in self.requests.values()})
        units = pol.conversation_factor if isinstance(pol, DemandDriven) else n_laws
        m.month_costs["access"] += units * acc.conversation_cost
        # A new plan may pay a one-off, non-catalogue solution (demand-driven's flexible budget).
        self.flexible = pol.flexible_budget > 0 and rnd() < pol.flexible_budget

    # --- 2. episodes and bills (called by the model's allocation) ---------------------------

    def start_episode(
        self,
        d: int,
        provision: ProvisionInfo,
        month: int,
        channel: str,
        upcode: bool = True,
        goal_months: int = 0,
    ) -> None:
        """Start a provision for domain ``d`` (replacing any running one).

        A renewal or an escalation passes the running episode's ``goal_months`` on: the months
        its goal has held carry over to the new episode.
        """
        m = self.model
        pol = m.policy
        chronic = self.chronic_type and d in m.chronic_domains
        intensity = plan_intensity(pol, self.severity[d])
        months = next_review(pol, provision, chronic)
        individual = provision.billed_individually
        months, intensity = contract_response(pol, individual, months, intensity)
        upcoded = (
            upcode
            and pol.contract == "output"
            and individual
            and self.random.random() < pol.contracts.output_upcoding
        )
        self.care[d] = Episode(
            provision, months, 0, intensity, upcoded, month, channel, chronic, goal_months
        )

    def bill(self, lump_per_client: dict[str, float]) -> None:
        """Book this month's cost of the household's running provisions and benefit."""
        m = self.model
        pol = m.policy
        c = pol.contracts
        costs = m.month_costs
        for ep in self.care.values():
            p = ep.provision
            clients = max(self.n_children, 1) if p.name in PER_YOUNG_PERSON else 1
            if p.name in lump_per_client:  # a lump sum, shared by its clients
                costs[p.law] += lump_per_client[p.name]
            elif pol.contract == "effort":  # price × hours, over-provided
                costs[p.law] += (
                    p.cost_month * clients * ep.intensity * (1 + c.effort_over_provision)
                )
            elif pol.contract == "output":  # a price per trajectory, due once per period
                period = max(round(p.duration * (1 - c.output_shortening)), 1)
                if ep.months_in % period == 0:
                    price = p.cost_month * clients * p.duration
                    costs[p.law] += price * c.output_upcode_factor if ep.upcoded else price
        if self.on_benefit:
            costs["benefit"] += m.catalogue["benefit"].cost_month
        if self.flexible:
            flex = m.catalogue["flexible_budget"]
            costs[flex.law] += flex.cost_month

    # --- 3. informal support and problem dynamics --------------------------------------------

    def share_need(self) -> None:
        """Work out this month's care effects and how much this household pulls on its ties."""
        m = self.model
        sp = m.scenario_params.support
        s = self.severity
        self.extra_recovery = [0.0] * D
        self.escalation_factor = [1.0] * D
        for d, ep in self.care.items():
            for dd, effect in ep.provision.effects:
                self.extra_recovery[dd] += effect * ep.intensity
            self.escalation_factor[d] = 1 - ep.provision.mitigation * min(ep.intensity, 1.0)
        if self.flexible:
            for dd, effect in m.catalogue["flexible_budget"].effects:
                self.extra_recovery[dd] += effect
        # A plan activates the household's network (demand-driven: network_activation > 0) ...
        in_plan = self.flexible or bool(self.care)
        self.activation = m.policy.network_activation if in_plan else 0.0
        # ... and, while an episode runs, addresses its problems together: they stack less.
        self.stacking_relief = m.policy.plan_stacking_relief if self.care else 0.0

        threshold = m.scenario_params.problems.threshold
        self.need = sum(x for x in s if x >= threshold)
        self.pull = self.need * (1 + self.activation)
        load = sum(s)
        own = min(max(1 - load / sp.load_scale, 0.0), 1.0)
        capacity = self.support_capacity * (1 + m.network_programme)
        self.spare = capacity * own * (1 - self.strain)

    def give(self) -> None:
        """Offer spare capacity in proportion to the need around; split it by tie × need."""
        sp = self.model.scenario_params.support
        need_around = sum(w * nb.pull for nb, w in self.neighbours)
        self.given = self.spare * min(need_around / sp.need_saturation, 1.0)
        self.per_unit_need = self.given / need_around if need_around > 0 else 0.0

    def receive(self) -> None:
        """Collect support from the ties, then compute next month's severities and strain."""
        m = self.model
        sc = m.scenario_params
        if not sc.support.enabled:
            coverage, self.given = 0.0, 0.0
        elif self.need > 0:
            received = sum(w * nb.per_unit_need for nb, w in self.neighbours)
            coverage = min(received * (1 + self.activation), 1.0)
        else:
            coverage = 0.0
        self.next_severity = self._problems(coverage)
        sp = sc.support
        excess = max(self.given - sp.strain_threshold, 0.0)
        strain = self.strain * (1 - sp.strain_recovery) + sp.strain_gain * excess
        self.next_strain = min(max(strain, 0.0), 1.0)

    def _problems(self, coverage: float) -> list[float]:
        m = self.model
        p = m.scenario_params.problems
        sp = m.scenario_params.support
        rnd = self.random.random
        s = self.severity
        threshold = p.threshold
        n_active = sum(1 for x in s if x >= threshold)
        stack = max(n_active - 1, 0) * (1 - self.stacking_relief)
        lo, hi = p.onset_severity
        new = []
        for d in range(D):
            x = s[d]
            if x >= threshold:
                # Recovery slows with stacking; support helps light problems; care adds more.
                recover_p = m.recovery[d] / (1 + p.recovery_stacking * stack)
                if x < threshold + sp.light_margin:
                    recover_p += sp.light_recovery * coverage
                recover_p += self.extra_recovery[d]
                if self.persistent and DOMAINS[d] in p.persistent_domains:
                    recover_p *= p.persistent_recovery
                if rnd() < recover_p:
                    new.append(x * p.recovered_fraction)
                else:
                    step = m.escalation[d] * (1 + p.escalation_stacking * stack)
                    step *= (1 - sp.escalation_mitigation * coverage) * self.escalation_factor[d]
                    new.append(x + step)
            elif self.onset_base[d] > 0.0:
                # Onset: spill-over from the other domains and the carer's own strain.
                exponent = sum(c * s[src] for src, c in m.spill_into[d])
                exponent += m.strain_effect[d] * self.strain
                onset_p = -math.expm1(-self.onset_base[d] * math.exp(exponent))
                if rnd() < onset_p:
                    new.append(lo + (hi - lo) * rnd())
                else:
                    new.append(x * (1 - p.residual_decay))
            else:
                new.append(x * (1 - p.residual_decay))
        if self.event is not None:
            for d, v in m.events[self.event].impact:
                new[d] += v
        new = [min(max(x, 0.0), 1.0) for x in new]
        if not self.has_children:
            new[PARENTING] = 0.0
        return new

    # --- 4. commit, and the end of the month of formal care --------------------------------

    def advance(self) -> None:
        """Take on the new state; then escalations, reviews, renewals and social assistance."""
        self.severity = self.next_severity
        self.strain = self.next_strain
        if self.model.policy is not None:
            self._end_month(self.model.current_month)

    def _end_month(self, month: int) -> None:
        """The episode lifecycle at the end of the month, from the state at its end.

        In order: every episode ages a month; ambulant youth care escalates to residential
        care; each episode counts the months its goal has held; an episode whose goal has
        held for longer than the exit lag ends (between reviews, unless the need is chronic);
        an episode whose months until review ran out is reviewed.
        """
        m = self.model
        acc = m.scenario_params.access
        pol = m.policy
        s = self.severity
        for ep in self.care.values():
            ep.left -= 1
            ep.months_in += 1

        # Youth care escalates to residential care where parenting problems became acute.
        youth = self.care.get(PARENTING)
        if (
            youth is not None
            and youth.provision.name == "youth_ambulant"
            and s[PARENTING] >= RESIDENTIAL_THRESHOLD
        ):
            self.start_episode(
                PARENTING,
                m.catalogue["youth_residential"],
                month + 1,
                "escalation",
                goal_months=youth.goal_months,
            )
            m.escalations += 1
            # A re-indication is priced as a review
            m.month_costs["access"] += pol.review_factor * acc.conversation_cost

        # The goal: the domain below the regime's exit threshold; for a chronic need,
        # self-reliance (below access.chronic_exit_severity).
        for d, ep in self.care.items():
            goal = acc.chronic_exit_severity if ep.chronic else pol.exit_threshold
            ep.goal_months = ep.goal_months + 1 if s[d] < goal else 0

        # End on goal: care whose goal has held for longer than the lag ends now, without
        # waiting for its review (never for a chronic need: that ends only at a review).
        if pol.end_on_goal:
            for d, ep in list(self.care.items()):
                if not ep.chronic and ep.goal_months > exit_lag(pol, ep.provision):
                    del self.care[d]

        # Reviews. An episode whose goal is reached but has not yet held for the lag waits
        # for it (its review moves to the month the lag is over). Any other is reviewed: it
        # ends once its goal has held for longer than the lag, otherwise it continues (a
        # chronic need whatever its severity, any other need while its goal is not reached),
        # prolonged (the same episode, resized) or renewed (a new episode from next month).
        # Every review is priced, once per household reviewed this month.
        reviewed = False
        for d, ep in list(self.care.items()):
            if ep.left > 0:
                continue
            lag = exit_lag(pol, ep.provision)
            if 0 < ep.goal_months <= lag:
                ep.left = lag + 1 - ep.goal_months
                continue
            reviewed = True
            goal_held = ep.goal_months > lag
            if goal_held or not (ep.chronic or s[d] >= pol.exit_threshold):
                del self.care[d]
            elif pol.continuation == "prolong":
                ep.left, ep.intensity = contract_response(
                    pol,
                    ep.provision.billed_individually,
                    next_review(pol, ep.provision, ep.chronic),
                    plan_intensity(pol, s[d]),
                )
            else:
                self.start_episode(
                    d, ep.provision, month + 1, "renewal", goal_months=ep.goal_months
                )
        if reviewed:
            m.month_costs["access"] += pol.review_factor * acc.conversation_cost

        # Social assistance: an entitlement that follows the work domain.
        self.on_benefit = (
            s[WORK] >= BENEFIT_WORK_THRESHOLD and self.income_quintile <= BENEFIT_MAX_QUINTILE
        )


class ReferenceModel(mesa.Model):
    """The municipality with one agent per household (see the module docstring).

    Building the model builds the population and network with the library (identical to
    ``MunicipalityModel`` on the same seed) and runs the scenario's burn-in (months
    −burn_in + 1 … 0, costs not booked). ``model.time`` then counts months after burn-in.

    Args:
        scenario: The municipality; ``None`` for :meth:`vraagvolgend.Scenario.default`.
        policy: ``None`` (no formal care), ``"supply-driven"``, ``"demand-driven"`` or a
            :class:`~vraagvolgend.SupplyDriven` / :class:`~vraagvolgend.DemandDriven` policy.
        rng: The run's seed (int or ``numpy.random.SeedSequence``).
    """

    def __init__(self, scenario: vv.Scenario | None = None, policy=None, *, rng=None):
        scenario = vv.Scenario.default() if scenario is None else scenario
        policy = resolve_policy(policy)
        if policy is not None and not isinstance(policy, SupplyDriven | DemandDriven):
            raise TypeError("the reference model reproduces SupplyDriven and DemandDriven only")
        seed_sequence = as_seed_sequence(rng)
        super().__init__(rng=int(seed_sequence.generate_state(1)[0]))
        self.scenario_params = scenario
        self.policy = policy
        self._tables(scenario, policy)

        # The same households, network and initial state as the library on this seed.
        streams = vv.Streams(seed_sequence)
        h = vv.build_households(scenario, streams["population"])
        w = vv.build_network(h, scenario.network, streams["network"])
        dynamics = _dynamics(scenario, h, streams)
        severity = dynamics.initial_severity(streams["initial"])
        # The persistent trait is a household characteristic, like the population: the
        # library's own draw (its chance follows the household type's relative risk).
        persistent = dynamics.persistent
        # So is avoiding help: the library's draw, from the same stream.
        avoider = streams["access_setup"].random(h.n) < scenario.access.avoider_share
        households = [
            Household(
                self,
                household_type=HOUSEHOLD_TYPES[h.household_type[i]],
                n_children=int(h.n_children[i]),
                n_persons=int(h.n_persons[i]),
                income_quintile=int(h.income_quintile[i]),
                vulnerability=float(h.vulnerability[i]),
                deprivation=float(h.deprivation[i]),
                severity=severity[:, i].astype(float).tolist(),
                persistent=bool(persistent[i]),
                avoider=bool(avoider[i]),
            )
            for i in range(h.n)
        ]
        for i, hh in enumerate(households):
            lo, hi = w.indptr[i], w.indptr[i + 1]
            hh.neighbours = [
                (households[j], float(x))
                for j, x in zip(w.indices[lo:hi].tolist(), w.data[lo:hi].tolist(), strict=True)
            ]
        self.n_households = h.n
        self.n_with_children = sum(1 for hh in households if hh.has_children)

        # Formal care at model level: capacity, the budget and its rule.
        self.collective_multiplier = 1.0
        self.intake_closed = False
        inhabitants = sum(hh.n_persons for hh in households)
        self.annual_budget = (
            sum(scenario.budget.per_inhabitant.values()) * inhabitants if policy is not None else 0
        )
        self.costs: dict[int, dict[str, float]] = {}  # year → cost key → EUR
        self.year_to_date = dict.fromkeys(COST_KEYS, 0.0)
        self.month_costs = dict.fromkeys(COST_KEYS, 0.0)
        self.served: dict[str, list[int]] = {law: [] for law in LAWS}
        self.current_month = 0
        self.hidden_need = self.escalations = 0

        for month in range(1 - scenario.burn_in_months, 1):
            self.advance_month(month)

        reporters = {
            f"mean_severity_{d}": self._mean_severity_reporter(i) for i, d in enumerate(DOMAINS)
        }
        reporters.update({f"served_{law}": self._served_reporter(law) for law in LAWS})
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    # --- parameter tables shared by the agents ------------------------------------------------

    def _tables(self, scenario: vv.Scenario, policy: Policy | None) -> None:
        p = scenario.problems
        self.recovery = [p.recovery_rate[d] for d in DOMAINS]
        self.escalation = [p.escalation_rate[d] for d in DOMAINS]
        # spill_into[d]: (source domain, coefficient) pairs raising d's onset hazard
        self.spill_into = [
            tuple(
                (i, float(p.spillover.get(src, {}).get(dst, 0.0)))
                for i, src in enumerate(DOMAINS)
                if p.spillover.get(src, {}).get(dst, 0.0) != 0
            )
            for dst in DOMAINS
        ]
        self.strain_effect = [scenario.support.strain_effect.get(d, 0.0) for d in DOMAINS]
        self.events = [
            LifeEventInfo(
                rate=ev.rate,
                household_types=frozenset(ev.household_types),
                vulnerability_effect=ev.vulnerability_effect,
                severity_effect=_nonzero(ev.severity_effect),
                impact=_nonzero(ev.impact),
            )
            for ev in scenario.life_events.values()
        ]
        cat = scenario.provisions
        n = scenario.n_households
        self.catalogue = {
            name: ProvisionInfo(
                name=name,
                law=cat.law_of(name),
                effects=_nonzero(cat[name].domains),
                mitigation=cat[name].escalation_mitigation,
                cost_month=cat[name].cost_month,
                duration=cat[name].duration_months,
                base_capacity=cat[name].capacity_per_1000 * n / 1000.0,
                volunteer_share=cat[name].volunteer_share,
            )
            for name in cat.names
        }
        self.light = [self.catalogue[LIGHT_PRODUCT[d]] for d in DOMAINS]
        self.heavy = [self.catalogue[HEAVY_PRODUCT[d]] for d in DOMAINS]
        self.network_programme = policy.network_programme if policy is not None else 0.0
        self.chronic_domains = {DOMAINS.index(d) for d in scenario.access.chronic_domains}
        if isinstance(policy, DemandDriven):
            self.root_rank = [policy.root_cause_order.index(d) for d in DOMAINS]

    # --- one month ---------------------------------------------------------------------------

    def step(self) -> None:
        """One month after burn-in (``model.time`` is then the month's number)."""
        self.advance_month(self.steps)
        self.last_mean_severity = self.mean_severity()
        self.datacollector.collect(self)

    def advance_month(self, month: int) -> None:
        """Run month ``month`` (burn-in months are ≤ 0 and book no costs)."""
        self.current_month = month
        self.month_costs = dict.fromkeys(COST_KEYS, 0.0)
        self.agents.do("step")
        if self.policy is not None:
            self._allocate(month)
        self.agents.do("share_need")
        self.agents.do("give")
        self.agents.do("receive")
        self.agents.do("advance")
        if self.policy is not None:
            self._close_month(month)

    def capacity(self) -> dict[str, float]:
        """Concurrent places per provision this month (``inf`` where not limited)."""
        pol = self.policy
        cap = {}
        for name, p in self.catalogue.items():
            if p.collective:
                cap[name] = p.base_capacity * pol.collective_capacity * self.collective_multiplier
            elif pol.contract == "task" and p.billed_individually:
                cap[name] = p.base_capacity * pol.contracts.task_capacity
            else:
                cap[name] = math.inf
        return cap

    def _individual_spent(self) -> float:
        # What the budget covers: the laws' individual provisions and access
        return sum(self.year_to_date[law] for law in (*INDIVIDUAL_LAWS, "access"))

    def _allocate(self, month: int) -> None:
        """Admit this month's requests (and the waiting lists) within capacity, then bill."""
        pol = self.policy
        cap = self.capacity()
        if pol.budget_rule == "cap" and self._individual_spent() > self.annual_budget:
            self.intake_closed = True
        if self.intake_closed:
            for name, p in self.catalogue.items():
                if p.billed_individually:
                    cap[name] = 0.0
        running = Counter(ep.provision.name for hh in self.agents for ep in hh.care.values())
        free = {name: cap[name] - running[name] for name in cap}

        # Requests per provision: (since, tiebreak, household, domain); those waiting longest
        # go first, then at random.
        requests: dict[str, list] = defaultdict(list)
        need_threshold = self.scenario_params.access.need_threshold
        for hh in self.agents:
            # Who recovered while waiting leaves the list, as in the library.
            for d in [d for d in hh.waiting if hh.severity[d] < need_threshold]:
                del hh.waiting[d]
            for d, p in hh.requests.items():
                requests[p.name].append((month, hh.tiebreak, hh, d))
            for d, place in hh.waiting.items():
                requests[place.provision.name].append((place.since, hh.random.random(), hh, d))
        admitted = []
        for collective_pass in (True, False):
            for name, p in self.catalogue.items():
                if p.collective != collective_pass or not requests[name]:
                    continue
                queue = sorted(requests[name], key=lambda r: (r[0], r[1]))
                k = len(queue) if len(queue) <= free[name] else max(int(free[name]), 0)
                admitted += [(hh, d, p) for _, _, hh, d in queue[:k]]
                for since, tiebreak, hh, d in queue[k:]:
                    if collective_pass:  # refer on to the domain's individual product
                        requests[self.heavy[d].name].append((since, tiebreak, hh, d))
                    elif d not in hh.waiting:  # join the waiting list
                        hh.waiting[d] = WaitingPlace(p, month, hh.channel)
        for hh, d, p in admitted:
            place = hh.waiting.pop(d, None)
            channel = place.channel if place is not None else hh.channel
            hh.start_episode(d, p, month, channel)

        # Bill the month: lump sums for collective provisions (and individual ones under task
        # contracts) are shared by their clients, or booked as idle capacity.
        cap = self.capacity()
        running = Counter(ep.provision.name for hh in self.agents for ep in hh.care.values())
        lump_per_client = {}
        for name, p in self.catalogue.items():
            if p.collective or (pol.contract == "task" and p.billed_individually):
                total = (0.0 if math.isinf(cap[name]) else cap[name]) * p.cost_month
                total *= 1 - p.volunteer_share
                if running[name]:
                    lump_per_client[name] = total / running[name]
                else:
                    self.month_costs[p.law] += total
        self.agents.do("bill", lump_per_client)
        self.month_costs["collective"] += (
            pol.network_programme * pol.network_programme_cost * self.n_households / 12.0
        )

    def _close_month(self, month: int) -> None:
        """Record who is served, book the month's costs and apply the budget rule."""
        served = {law: 0 for law in LAWS}
        for hh in self.agents:
            for law in {ep.provision.law for ep in hh.care.values()}:
                served[law] += 1
        if month < 1:  # burn-in is not booked
            return
        for law in LAWS:
            self.served[law].append(served[law])
        year = (month - 1) // 12 + 1
        booked = self.costs.setdefault(year, dict.fromkeys(COST_KEYS, 0.0))
        for key, eur in self.month_costs.items():
            booked[key] += eur
            self.year_to_date[key] += eur
        if month % 12 == 0:
            # After a year whose individual costs overran the budget, cut collective capacity.
            overran = self._individual_spent() > self.annual_budget
            if overran and self.policy.budget_rule == "cut_collective":
                self.collective_multiplier *= 1 - self.policy.budget_cut
            self.intake_closed = False
            self.year_to_date = dict.fromkeys(COST_KEYS, 0.0)

    # --- outputs ----------------------------------------------------------------------------

    @staticmethod
    def _mean_severity_reporter(d: int):
        return lambda m: m.last_mean_severity[DOMAINS[d]]

    @staticmethod
    def _served_reporter(law: str):
        return lambda m: m.served[law][-1] if m.served[law] else 0

    def mean_severity(self) -> dict[str, float]:
        """Mean severity per domain now (parenting over households with children)."""
        total = [0.0] * D
        for hh in self.agents:
            for d in range(D):
                total[d] += hh.severity[d]
        return {
            name: total[d] / (max(self.n_with_children, 1) if d == PARENTING else self.n_households)
            for d, name in enumerate(DOMAINS)
        }

    def aggregates(self) -> dict:
        """The main aggregates, in the shape :func:`library_aggregates` gives them.

        Returns:
            ``{"mean_severity": {domain: float}, "mean_severity_monthly": {domain: [mean
            severity per month]}, "served": {law: [households per month]}, "costs": {year:
            {cost key: EUR}}}``; ``served`` and ``costs`` are empty without
            formal care.
        """
        monthly = self.datacollector.get_model_vars_dataframe()
        return {
            "mean_severity": self.mean_severity(),
            "mean_severity_monthly": {
                d: monthly[f"mean_severity_{d}"].astype(float).tolist() for d in DOMAINS
            },
            "served": {law: list(v) for law, v in self.served.items()} if self.policy else {},
            "costs": {y: dict(c) for y, c in sorted(self.costs.items())},
        }


def library_aggregates(result_or_model) -> dict:
    """The same aggregates as :meth:`ReferenceModel.aggregates`, from the library.

    Args:
        result_or_model: A :class:`vraagvolgend.Result` (from :func:`vraagvolgend.run`) or a
            :class:`vraagvolgend.MunicipalityModel` that has run.
    """
    if isinstance(result_or_model, vv.MunicipalityModel):
        monthly = result_or_model.datacollector.get_model_vars_dataframe()
        care = result_or_model.care
        costs = care.budget.frame() if care is not None else None
    else:
        monthly = result_or_model.monthly
        costs = result_or_model.costs if result_or_model.policy is not None else None
    last = monthly.iloc[-1]
    out = {
        "mean_severity": {d: float(last[f"mean_severity_{d}"]) for d in DOMAINS},
        "mean_severity_monthly": {
            d: monthly[f"mean_severity_{d}"].astype(float).tolist() for d in DOMAINS
        },
        "served": {},
        "costs": {},
    }
    if costs is None:
        return out
    out["served"] = {law: monthly[f"served_{law}"].astype(int).tolist() for law in LAWS}
    benefit = costs["provision"] == "benefit"
    for year, rows in costs.assign(benefit=benefit).groupby("year"):
        by_law = rows[~rows["benefit"]].groupby("law")["cost_eur"].sum()
        entry = {key: float(by_law.get(key, 0.0)) for key in COST_KEYS if key != "benefit"}
        entry["benefit"] = float(rows.loc[rows["benefit"], "cost_eur"].sum())
        out["costs"][int(year)] = {key: entry[key] for key in COST_KEYS}
    return out
