"""jaxfgan: the training dynamics of torus GANs, through their Fourier modes, and
of the discrete methods that train them.

Importing jaxfgan turns on JAX's 64-bit mode, since equilibria and spectra are
classified in float64.
"""

import jax

__version__ = "0.1.0"

jax.config.update("jax_enable_x64", True)

from ._basins import BASIN_STATUS as BASIN_STATUS  # noqa: E402
from ._basins import BasinMap as BasinMap  # noqa: E402
from ._basins import basin_agreement as basin_agreement  # noqa: E402
from ._basins import basin_map as basin_map  # noqa: E402
from ._basins_plot import plot_basins as plot_basins  # noqa: E402
from ._chunk_store import ChunkStore as ChunkStore  # noqa: E402
from ._data import DATASETS as DATASETS  # noqa: E402
from ._data import dataset_path as dataset_path  # noqa: E402
from ._data import read_waiting_times as read_waiting_times  # noqa: E402
from ._dirac import DiracGAN as DiracGAN  # noqa: E402
from ._dirac import dirac_gan as dirac_gan  # noqa: E402
from ._equilibria import KINDS as KINDS  # noqa: E402
from ._equilibria import Equilibria as Equilibria  # noqa: E402
from ._equilibria import Equilibrium as Equilibrium  # noqa: E402
from ._equilibria import classify as classify  # noqa: E402
from ._equilibria import find_equilibria as find_equilibria  # noqa: E402
from ._equilibria import is_nash as is_nash  # noqa: E402
from ._equilibria import kind_from_eigenvalues as kind_from_eigenvalues  # noqa: E402
from ._errors import InputError as InputError  # noqa: E402
from ._exponential import ExponentialGAN as ExponentialGAN  # noqa: E402
from ._exponential import exponential_gan as exponential_gan  # noqa: E402
from ._flow import FLOW_STATUS as FLOW_STATUS  # noqa: E402
from ._flow import FlowSolution as FlowSolution  # noqa: E402
from ._flow import default_batch_size as default_batch_size  # noqa: E402
from ._flow import integrate_flow as integrate_flow  # noqa: E402
from ._fourier import FourierCoefficients as FourierCoefficients  # noqa: E402
from ._fourier import FourierSeries as FourierSeries  # noqa: E402
from ._fourier import fourier_coefficients as fourier_coefficients  # noqa: E402
from ._fourier import fourier_series as fourier_series  # noqa: E402
from ._modified import ModifiedFlow as ModifiedFlow  # noqa: E402
from ._modified import modified_flow as modified_flow  # noqa: E402
from ._objective import Objective as Objective  # noqa: E402
from ._objective import UserObjective as UserObjective  # noqa: E402
from ._objective import distance as distance  # noqa: E402
from ._objective import flow_jacobian as flow_jacobian  # noqa: E402
from ._objective import torus_distance as torus_distance  # noqa: E402
from ._objective import value as value  # noqa: E402
from ._objective import vector_field as vector_field  # noqa: E402
from ._objective import wrap_angles as wrap_angles  # noqa: E402
from ._orbits import OrbitFamily as OrbitFamily  # noqa: E402
from ._orbits import PeriodicOrbit as PeriodicOrbit  # noqa: E402
from ._orbits import find_orbits as find_orbits  # noqa: E402
from ._orbits import follow_orbit as follow_orbit  # noqa: E402
from ._orbits_plot import plot_orbits as plot_orbits  # noqa: E402
from ._plot import plot_portrait as plot_portrait  # noqa: E402
from ._portrait import Panel as Panel  # noqa: E402
from ._portrait import portrait_panels as portrait_panels  # noqa: E402
from ._regularizers import REGULARIZERS as REGULARIZERS  # noqa: E402
from ._regularizers import Regularized as Regularized  # noqa: E402
from ._regularizers import regularize as regularize  # noqa: E402
from ._rotation import Rotation as Rotation  # noqa: E402
from ._rotation import rotation_contraction as rotation_contraction  # noqa: E402
from ._training import METHODS as METHODS  # noqa: E402
from ._training import Method as Method  # noqa: E402
from ._training import TrainingRun as TrainingRun  # noqa: E402
from ._training import max_stable_lr as max_stable_lr  # noqa: E402
from ._training import method as method  # noqa: E402
from ._training import spectral_radius as spectral_radius  # noqa: E402
from ._training import train as train  # noqa: E402
from ._training import update_jacobian as update_jacobian  # noqa: E402
from ._training import verdict as verdict  # noqa: E402
from ._truncation import EquilibriumMatch as EquilibriumMatch  # noqa: E402
from ._truncation import OrderAccuracy as OrderAccuracy  # noqa: E402
from ._truncation import TruncationStudy as TruncationStudy  # noqa: E402
from ._truncation import truncation_study as truncation_study  # noqa: E402
from ._truncation_plot import plot_truncation as plot_truncation  # noqa: E402
