"""vraagvolgend: agent-based simulation of how Dutch municipalities finance their social domain.

A synthetic municipality of households, with problems in several life domains that stack and
spread, living in neighbourhoods and tied together by a social network, run under supply-driven
and demand-driven financing of its social domain.

Example:
    >>> import vraagvolgend as vv
    >>> result = vv.run(vv.Scenario.default().with_changes(n_households=500), months=12)
    >>> list(result.households.columns)[:3]
    ['household_id', 'household_type', 'n_persons']
"""

from importlib.metadata import PackageNotFoundError, version

from . import drivers, outputs
from .calibration import Fit, Target, calibrate, fit_table, load_targets
from .comparison import Comparison, compare
from .decomposition import Decomposition, decompose, decompose_comparison
from .domains import DOMAINS, HOUSEHOLD_TYPES, zrm_level
from .draws import UncertaintyResult
from .experiments import Experiment, SweepInterrupted, run_experiment
from .financing import Contracts, DemandDriven, Policy, PolicySwitch, SupplyDriven
from .households import Households, HouseholdView, build_households
from .model import PROCESSES, MunicipalityModel
from .month import MonthState, Pipeline, Process
from .network import build_network, to_networkx
from .parameters import ParameterError
from .probabilistic import add_uncertainty
from .provisions import Catalogue, Provision
from .results import HouseholdCosts, Result
from .rng import Streams
from .scenario import (
    Access,
    LifeEvent,
    Neighbourhood,
    Network,
    Population,
    Problems,
    Scenario,
    ScenarioError,
    Support,
)
from .simulation import run
from .store import ResultStore, StoreWarning
from .uncertainty import Lever, Uncertainty, default_uncertainties

try:
    __version__ = version("vraagvolgend")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "DOMAINS",
    "HOUSEHOLD_TYPES",
    "PROCESSES",
    "Access",
    "Catalogue",
    "Comparison",
    "Contracts",
    "Decomposition",
    "DemandDriven",
    "Experiment",
    "Fit",
    "HouseholdCosts",
    "HouseholdView",
    "Households",
    "Lever",
    "LifeEvent",
    "MonthState",
    "MunicipalityModel",
    "Neighbourhood",
    "Network",
    "ParameterError",
    "Pipeline",
    "Policy",
    "PolicySwitch",
    "Population",
    "Problems",
    "Process",
    "Provision",
    "Result",
    "ResultStore",
    "Scenario",
    "ScenarioError",
    "StoreWarning",
    "Streams",
    "SupplyDriven",
    "Support",
    "SweepInterrupted",
    "Target",
    "Uncertainty",
    "UncertaintyResult",
    "__version__",
    "add_uncertainty",
    "build_households",
    "build_network",
    "calibrate",
    "compare",
    "decompose",
    "decompose_comparison",
    "default_uncertainties",
    "drivers",
    "fit_table",
    "load_targets",
    "outputs",
    "run",
    "run_experiment",
    "to_networkx",
    "zrm_level",
]
