"""The dashboard's pages (Solara): *Municipality* and *Compare*.

Served by :func:`vraagvolgend.dashboard.serve` (``vraagvolgend dashboard``). Plots are
matplotlib figures built with the object API and sent as PNG images, so nothing is fetched
from a network and the user's matplotlib backend is untouched. Every control value is
validated by the library; a bad value shows the command line's one-line error.
"""

from __future__ import annotations

import threading
from html import escape

import numpy as np
import pandas as pd
import solara
import solara.lab

from .. import reports
from .certainty import drivers, interval_table, probabilities
from .controls import (
    BUDGET_RULES,
    CONTRACTS,
    POLICY_DEFAULTS,
    REGIMES,
    SCENARIO_DEFAULTS,
    UNCERTAINTY_DEFAULTS,
    build_policy,
    build_scenario,
    check_uncertainty,
    one_line,
)
from .history import LAWS, MonthlyHistory
from .jobs import CompareJob
from .plots import HouseholdPlot, MonthPlots, plane_png

__all__ = ["Page"]

MAX_MONTHS = 240
label = reports.label


# --- shared controls ---------------------------------------------------------------------------


@solara.component
def ScenarioControls(values: solara.Reactive[dict]):
    """Households, burn-in, network degree and the effect of deprivation."""
    v = values.value

    def setter(key):
        return lambda x: values.set({**values.value, key: x})

    solara.InputInt("Households", value=v["n_households"], on_value=setter("n_households"))
    solara.InputInt("Burn-in months", value=v["burn_in_months"], on_value=setter("burn_in_months"))
    solara.InputFloat(
        "Network: mean number of ties",
        value=v["network.mean_degree"],
        on_value=setter("network.mean_degree"),
    )
    solara.InputFloat(
        "Deprivation: effect of neighbourhood deprivation on problem onset",
        value=v["problems.deprivation_effect"],
        on_value=setter("problems.deprivation_effect"),
    )


@solara.component
def LabelledSelect(title: str, keys, value: str, on_value):
    """A select that shows human labels and hands back the library's keys."""
    labels = {label(k): k for k in keys}
    solara.Select(
        title,
        values=list(labels),
        value=label(value),
        on_value=lambda text: on_value(labels.get(text, text)),
    )


@solara.component
def PolicyControls(values: dict, on_values, title: str = "Policy", style: dict | None = None):
    """Regime, contract and levers of one policy (``style``: more CSS for its card)."""

    def setter(key):
        return lambda x: on_values({**values, key: x})

    with solara.Card(title, margin=0, style={"min-width": "18rem", **(style or {})}):
        solara.InputText("Name", value=values["name"], on_value=setter("name"))
        LabelledSelect("Regime", REGIMES, values["regime"], setter("regime"))
        LabelledSelect("Contract", CONTRACTS, values["contract"], setter("contract"))
        solara.InputFloat(
            "Collective capacity (× catalogue)",
            value=values["collective_capacity"],
            on_value=setter("collective_capacity"),
        )
        solara.InputFloat(
            "Outreach (monthly chance to find hidden need)",
            value=values["outreach"],
            on_value=setter("outreach"),
        )
        solara.InputFloat(
            "Network programme strength",
            value=values["network_programme"],
            on_value=setter("network_programme"),
        )
        LabelledSelect("Budget rule", BUDGET_RULES, values["budget_rule"], setter("budget_rule"))
        solara.Checkbox(
            label="Practice support for youth at the GP (POH-jeugd)",
            value=values["practice_support_youth"],
            on_value=setter("practice_support_youth"),
        )


def _validated(scenario_values: dict, policy_values: list[dict]):
    """(scenario, policies, error): the library's one-line error when a value is bad."""
    try:
        scenario = build_scenario(scenario_values)
        policies = [build_policy(v) for v in policy_values]
    except (ValueError, TypeError) as err:
        return None, None, one_line(err)
    return scenario, policies, None


# --- municipality page -------------------------------------------------------------------------

scenario_values = solara.reactive(dict(SCENARIO_DEFAULTS))
policy_values = solara.reactive(dict(POLICY_DEFAULTS))
seed_value = solara.reactive(0)
history = solara.reactive(None)
tick = solara.reactive(0)
playing = solara.reactive(False)
model_error = solara.reactive(None)
household_id = solara.reactive(0)
#: Seconds between two months while playing: long enough for the browser to show each month
#: and for a click on Pause to get in between, short enough to watch a year go by.
PLAY_INTERVAL_S = 0.25


def _reset() -> None:
    first = history.value is None
    playing.set(False)
    scenario, policies, error = _validated(scenario_values.value, [policy_values.value])
    model_error.set(error)
    if error is None:
        try:
            history.set(MonthlyHistory(scenario, policies[0], seed=int(seed_value.value)))
        except (ValueError, TypeError) as err:
            model_error.set(one_line(err))
            return
        if first:  # start the inspector on the household with the heaviest problems
            household_id.set(int(np.asarray(history.value.model.severity).sum(axis=0).argmax()))
        household_id.set(min(household_id.value, scenario.n_households - 1))
        tick.set(tick.value + 1)


def _step() -> None:
    h = history.value
    if h is not None and h.month < MAX_MONTHS:
        h.step()
        tick.set(tick.value + 1)


def _kernel_context():
    """The page's kernel context on Solara's server (None elsewhere, e.g. in a notebook)."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except Exception:  # not on Solara's server: nothing to guard
        return None


def _watched(context) -> bool:
    """Whether the page is open and connected (always True off Solara's server)."""
    if context is None:
        return True
    if context.closed_event.is_set():
        return False
    try:
        from solara.server.kernel_context import PageStatus

        return PageStatus.CONNECTED in context.page_status.values()
    except (ImportError, AttributeError):  # another Solara: rely on the closed event alone
        return True


def _play(stop: threading.Event, context) -> None:
    """Step month after month until ``stop`` is set, Play is switched off, or the page is
    closed or loses its connection (then Play is switched off: nobody is watching).

    Each month is stepped and drawn under the page's kernel lock, the lock Solara holds while
    it handles a message from the browser and while it closes the page: a click and a month
    never interleave, and once the page is closed (its widgets and websocket gone) nothing is
    drawn any more.
    """
    lock = context.lock if context is not None else threading.RLock()
    while not stop.is_set():
        with lock:
            if stop.is_set() or (context is not None and context.closed_event.is_set()):
                return
            h = history.value
            if not playing.value or h is None:
                return
            if h.month >= MAX_MONTHS or not _watched(context):
                playing.set(False)
                return
            try:
                _step()  # renders the month in this thread before it returns
            except Exception as err:  # shown on the page instead of lost
                model_error.set(one_line(err))
                playing.set(False)
                return
        stop.wait(PLAY_INTERVAL_S)


def _use_player() -> None:
    """Run :func:`_play` in a thread while Play is on; stop it when Play is switched off or
    the page is closed (Solara unmounts the page then, which runs this effect's cleanup)."""

    def start():
        if not playing.value:
            return None
        stop = threading.Event()
        thread = threading.Thread(
            target=_play, args=(stop, _kernel_context()), name="vv-play", daemon=True
        )
        thread.start()
        return stop.set

    solara.use_effect(start, [playing.value])


def _html(text: str, tag: str = "p", strong: str = "") -> None:
    """Plain text as HTML, escaped (policy names come from users), with an optional bold
    lead. Used instead of ``solara.Markdown``, which fetches a maths renderer (KaTeX) that is
    not bundled with Solara's offline assets and so fails in the browser."""
    lead = f"<strong>{escape(strong)}</strong> " if strong else ""
    solara.HTML(tag=tag, unsafe_innerHTML=lead + escape(text), style={"margin": "0.3rem 0"})


def _styled(frame: pd.DataFrame) -> str:
    return reports._table(frame).html


@solara.component
def MonthPlotsView(h: MonthlyHistory, month: int):
    """The four month plots, drawn again only when the month (or the run) changes."""
    plots = solara.use_memo(MonthPlots, [])
    png = solara.use_memo(lambda: plots.png(h.frame()), [h, month])
    solara.Image(png, format="png")


def _episodes_table(h: MonthlyHistory, i: int) -> tuple[str, float] | None:
    """The household's episodes as an HTML table and their total cost (None without any)."""
    episodes = h.household_episodes(i)
    if episodes.empty:
        return None
    table = pd.DataFrame(
        {
            "Provision": episodes["provision"].map(label),
            "Law": episodes["law"].map(label),
            "For problem": episodes["domain"].map(label),
            "Channel": episodes["channel"].map(label),
            "Start month": episodes["start_month"].map(lambda m: f"{int(m)}"),
            "End month": episodes["end_month"].map(
                lambda m: "running" if pd.isna(m) else f"{int(m)}"
            ),
            "Cost since month 1 (EUR)": episodes["cost_eur"].map(
                lambda x: reports.fmt_number(x, 0)
            ),
        }
    )
    return _styled(table), float(episodes["cost_eur"].sum())


@solara.component
def HouseholdInspector(h: MonthlyHistory, month: int):
    """One household's problems month by month, its episodes and their cost.

    ``month`` is passed so that the inspector is drawn again after every step; the plot and
    the table are only recomputed when the month, the run or the household changes.
    """
    n = h.n_households
    i = household_id.value
    plot = solara.use_memo(HouseholdPlot, [])
    valid = 0 <= i < n
    png = solara.use_memo(
        lambda: plot.png(h.household_problems(i)) if valid else None, [h, month, i]
    )
    episodes = solara.use_memo(lambda: _episodes_table(h, i) if valid else None, [h, month, i])
    solara.InputInt(
        f"Household (0 … {n - 1:,})", value=household_id.value, on_value=household_id.set
    )
    if not valid:
        solara.Error(f"household_id {i} is out of range: 0 … {n - 1}")
        return
    info = h.household_info(i)
    _html(
        f"{label(info['household_type'])}, "
        f"{info['n_persons']} person{'s' if info['n_persons'] != 1 else ''}, "
        f"income quintile {info['income_quintile']}, neighbourhood {info['neighbourhood']}.",
        strong=f"Household {i:,}:",
    )
    solara.Image(png, format="png")
    if episodes is None:
        _html("No provision episodes since month 1.")
        return
    table, total = episodes
    _html(f"(EUR {reports.fmt_number(total, 0)} in all)", strong="Episodes and their cost")
    solara.HTML(tag="div", unsafe_innerHTML=table)


@solara.component
def MunicipalityControls():
    """The scenario, seed and policy controls (they do not change with the month)."""
    with solara.Card("Municipality", margin=0):
        ScenarioControls(scenario_values)
        solara.InputInt("Seed", value=seed_value)
    PolicyControls(policy_values.value, policy_values.set, "Policy")


@solara.component
def MunicipalityPage():
    solara.use_effect(lambda: _reset() if history.value is None else None, [])
    _use_player()
    month = tick.value  # re-render on every recorded month
    h = history.value

    # The buttons, the month and any error first, so they are in view without scrolling.
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Reset", on_click=_reset, color="primary")
        solara.Button(
            "Pause" if playing.value else "Play",
            on_click=lambda: playing.set(not playing.value),
            disabled=h is None,
        )
        solara.Button("Step", on_click=_step, disabled=playing.value or h is None)
        if h is None:
            _html("Building the municipality …", tag="h3")
        else:
            f = h.frame()
            last = f.iloc[-1]
            _html(
                f"Municipality of {h.n_households:,} households, month {h.month}",
                tag="h3",
            )
    if model_error.value:
        solara.Error(model_error.value)
    if h is not None:
        _html(
            f"Policy '{h.model.policy.name if h.model.policy else 'none'}'. "
            f"Households with 3+ problems: {int(last['households_3plus_problems']):,}; "
            f"waiting list: {int(last['waiting_list']):,}; carers under strain: "
            f"{int(last['carers_under_strain']):,}; cost so far: EUR "
            f"{reports.fmt_number(sum(last[f'cumulative_cost_{x}'] for x in LAWS), 0)}."
        )
    with solara.Columns([1, 3]):
        # The controls scroll on their own and stay in view while the plots scroll.
        with solara.Column(
            style={
                "position": "sticky",
                "top": "0",
                "max-height": "100vh",
                "overflow-y": "auto",
            }
        ):
            MunicipalityControls()
        with solara.Column():
            if h is None:
                return
            MonthPlotsView(h, month)
            _html("Household inspector", tag="h3")
            HouseholdInspector(h, month)


# --- compare page ------------------------------------------------------------------------------

compare_scenario = solara.reactive(
    {**SCENARIO_DEFAULTS, "n_households": 1_000, "burn_in_months": 36}
)
compare_policies = solara.reactive(
    [
        dict(POLICY_DEFAULTS),
        {**POLICY_DEFAULTS, "name": "demand-driven", "regime": "demand-driven"},
    ]
)
compare_settings = solara.reactive(
    {"replications": 3, "months": 24, "seed": 0, **UNCERTAINTY_DEFAULTS}
)
job = solara.reactive(None)
compare_error = solara.reactive(None)
poll = solara.reactive(0)


def _run_comparison() -> None:
    s = compare_settings.value
    scenario, policies, error = _validated(compare_scenario.value, compare_policies.value)
    if error is None:
        try:
            check_uncertainty(s["draws"], s["draw_replications"], scenario, policies)
        except (ValueError, TypeError) as err:
            error = one_line(err)
    compare_error.set(error)
    if error is None:
        old = job.value
        if old is not None:
            old.cancel()
        job.set(
            CompareJob(
                scenario,
                policies,
                replications=s["replications"],
                months=s["months"],
                seed=s["seed"],
                draws=s["draws"],
                draw_replications=s["draw_replications"],
            ).start()
        )


@solara.component
def AlternativeCertainty(result, policy: str):
    """How sure the answer is for one alternative: the probabilities, the intervals, the
    cost-effectiveness plane and what decides it."""
    png = solara.use_memo(lambda: plane_png(result, policy), [result, policy])
    found = solara.use_memo(lambda: drivers(result, policy), [result, policy])
    for sentence in probabilities(result, policy):
        _html(sentence)
    solara.HTML(tag="div", unsafe_innerHTML=_styled(interval_table(result, policy)))
    _html("Cost-effectiveness plane", tag="h4")
    solara.Image(png, format="png", classes=["vv-plane"])
    _html("What decides it", tag="h4")
    if found.table is None:
        _html(found.note)
        return
    if found.sentences:
        _html(found.sentences)
    solara.HTML(tag="div", unsafe_innerHTML=_styled(found.table))
    _html(
        "Share of the spread: how much of the spread of the external cost difference over the "
        "draws each assumption explains (squared standardised rank regression coefficient, "
        "bootstrap 95% interval). Break-even values are not computed here: each needs runs of "
        "its own."
    )


@solara.component
def UncertaintyView(result):
    """The uncertainty analysis of a comparison, alternative by alternative."""
    info = result.info
    varied = result.inputs["input"].nunique()
    _html("How sure is the answer?", tag="h3")
    design = {"lhs": "a Latin hypercube", "sobol": "a Sobol sequence"}.get(info["design"], "")
    per_draw = info["replications"]
    _html(
        f"{info['draws']} parameter draws ({design}), {per_draw} replication"
        f"{'s' if per_draw != 1 else ''} each; {varied} assumptions varied over their "
        "plausible ranges, "
        f"{len(result.fixed)} declared ranges kept fixed. Every draw runs every policy on the "
        "same households and life events."
    )
    if info["draws"] < 20:
        solara.Warning(
            f"Only {info['draws']} draws: each draw moves a probability by {1 / info['draws']:.0%}."
        )
    alternatives = [p for p in info["policies"] if p != result.baseline]
    for policy in alternatives:
        if len(alternatives) > 1:
            _html(f"{policy} against {result.baseline}", tag="h4")
        AlternativeCertainty(result, policy)


@solara.component
def ComparisonView(j: CompareJob):
    c = j.comparison()
    _html("In short", tag="h3")
    for paragraph in reports.headline(c):
        _html(paragraph)
    if c.runs["replication"].nunique() < 3:
        solara.Warning("Fewer than 3 replications: the intervals are unreliable.")
    if c.uncertainty is not None:
        UncertaintyView(c.uncertainty)
    with solara.Row():
        solara.FileDownload(
            lambda: j.zip_bytes(),
            filename="comparison.zip",
            label="Download the result folder (zip)",
        )
        solara.FileDownload(
            lambda: j.report.read_bytes(),
            filename="report.html",
            label="Download the report",
            mime_type="text/html",
        )
    tables = reports.report_tables(c)
    figures = reports.report_figures(c)
    _html("Annual cost per law (EUR million a year, 95% interval)", tag="h3")
    solara.HTML(tag="div", unsafe_innerHTML=tables["costs"].html)
    if "costs_by_year.png" in figures:
        solara.FigureMatplotlib(figures["costs_by_year.png"], format="png", dpi=80)
    if "decomposition" in tables:
        _html("What drives the difference (by mechanism)", tag="h3")
        solara.HTML(tag="div", unsafe_innerHTML=tables["decomposition"].html)
    _html("Outcomes for households (95% interval)", tag="h3")
    solara.HTML(tag="div", unsafe_innerHTML=tables["outcomes"].html)
    for key, title in (
        ("zrm", "Households at ZRM level 1–2 per life domain"),
        ("concentration", "Where the costs land"),
    ):
        if key in tables:
            _html(f"{title}", tag="h3")
            solara.HTML(tag="div", unsafe_innerHTML=tables[key].html)
    for by in reports.GROUPS:
        if f"groups_{by}" in tables:
            _html(
                f"Cost per household per year by {label(by).lower()} (EUR, 95% interval)",
                tag="h3",
            )
            solara.HTML(tag="div", unsafe_innerHTML=tables[f"groups_{by}"].html)
    if "by_group.png" in figures:
        solara.FigureMatplotlib(figures["by_group.png"], format="png", dpi=80)


def _phase(j: CompareJob) -> str:
    """What the job is doing, in words."""
    if j.done >= j.total:
        return "writing the report"
    if j.phase == "uncertainty":
        return (
            f"uncertainty analysis, {j.draws_done} of {j.draws} parameter draws done "
            f"({j.done} of {j.total} runs)"
        )
    return f"{j.done} of {j.total} runs done"


@solara.component
def ComparePage():
    j = job.value

    def follow(cancel: threading.Event):
        # Redraw the progress while the job runs, once more when it ends; nothing once the
        # page is gone (cancel is set when Solara unmounts the page).
        if j is None:
            return
        context = _kernel_context()
        lock = context.lock if context is not None else threading.RLock()
        running = True
        while running and not cancel.wait(0.3):
            running = j.state == "running"
            with lock:
                if cancel.is_set() or (context is not None and context.closed_event.is_set()):
                    return
                poll.set(poll.value + 1)

    # Not intrusive: Solara's default cancels by tracing every line of the thread, which
    # slows it down and can stop it anywhere.
    solara.use_thread(follow, dependencies=[j], intrusive_cancel=False)
    _ = poll.value
    settings = compare_settings.value

    def set_setting(key):
        return lambda x: compare_settings.set({**compare_settings.value, key: x})

    def set_policy(i):
        def on_values(values):
            items = list(compare_policies.value)
            items[i] = values
            compare_policies.set(items)

        return on_values

    def add_policy():
        n = len(compare_policies.value)
        compare_policies.set(
            [*compare_policies.value, {**POLICY_DEFAULTS, "name": f"policy {n + 1}"}]
        )

    def remove_policy():
        if len(compare_policies.value) > 2:
            compare_policies.set(compare_policies.value[:-1])

    with solara.Columns([1, 3]):
        with solara.Column():
            with solara.Card("Municipality", margin=0):
                ScenarioControls(compare_scenario)
            with solara.Card("Runs", margin=0):
                solara.InputInt(
                    "Replications",
                    value=settings["replications"],
                    on_value=set_setting("replications"),
                )
                solara.InputInt("Months", value=settings["months"], on_value=set_setting("months"))
                solara.InputInt("Seed", value=settings["seed"], on_value=set_setting("seed"))
            with solara.Card("Uncertainty", margin=0):
                solara.InputInt(
                    "Parameter draws (0 = none)",
                    value=settings["draws"],
                    on_value=set_setting("draws"),
                )
                solara.InputInt(
                    "Replications per draw",
                    value=settings["draw_replications"],
                    on_value=set_setting("draw_replications"),
                )
        with solara.Column():
            _html(
                "Choose two or more policies; the first is the baseline. Every policy runs on "
                "the same households and life events (common random numbers)."
            )
            # The buttons, the progress and any error before the policies, in view without
            # scrolling.
            with solara.Row(style={"flex-wrap": "wrap"}):
                solara.Button("Add a policy", on_click=add_policy)
                solara.Button(
                    "Remove the last policy",
                    on_click=remove_policy,
                    disabled=len(compare_policies.value) <= 2,
                )
                solara.Button(
                    "Run comparison",
                    on_click=_run_comparison,
                    color="primary",
                    disabled=j is not None and j.state == "running",
                )
            if compare_error.value:
                solara.Error(compare_error.value)
            if j is not None and j.state == "running":
                _html(f"Running the comparison: {_phase(j)} …")
                solara.ProgressLinear(value=100 * max(j.fraction, 0.02))
                solara.Button("Cancel", on_click=j.cancel)
            elif j is not None and j.state == "failed":
                solara.Error(j.error or "the comparison failed")
            elif j is not None and j.state == "cancelled":
                _html("The comparison was cancelled.")
            with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
                for i, values in enumerate(compare_policies.value):
                    PolicyControls(
                        values,
                        set_policy(i),
                        "Baseline" if i == 0 else f"Alternative {i}",
                        style={"flex": "1 1 18rem", "max-width": "26rem"},
                    )
            if j is None:
                return
            elif j.state == "done":
                ComparisonView(j)


@solara.component
def Page():
    solara.Title("vraagvolgend dashboard")
    with solara.Column(style={"padding": "0.5rem 1rem"}):
        _html("vraagvolgend: financing the social domain", tag="h2")
        with solara.lab.Tabs():
            with solara.lab.Tab("Municipality"):
                MunicipalityPage()
            with solara.lab.Tab("Compare"):
                ComparePage()
