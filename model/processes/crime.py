"""Street crime by routine-activity logic: motivated offenders x suitable targets / guardians.

For robbery, extortion and assault in each neighbourhood the expected count is

    scale_c * (offenders_c / residents) * targets_c / guardianship_c * deterrence

where offenders are gang members (prolific), idle youth and a background share of residents,
targets are people out and about (fewer when fear is high) or businesses for extortion, and
guardianship is honest police presence, collective efficacy and any situational measures. Where
a programme raises guardianship, the crime it deters can move to adjacent neighbourhoods
(displacement) or fall there too (diffusion of benefits), as its ``displacement`` lever says.
Counts are Poisson; victims are drawn among residents with repeat victimisation; a share of
robberies, assaults and extortions turn lethal, more so where guns are plentiful. Retail drug
sales follow gang presence and the drug stock gangs hold.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from model import draws
from model.compiled import kernel
from model.population import Status, sample_in_blocks
from model.processes.common import FEW, gang_by_control, member_views
from model.state import ASSAULT, EXTORTION, HOMICIDE, ROBBERY

if TYPE_CHECKING:
    from model.model import SecurityModel

MEMBER_WEIGHT = 3.0  # a gang member offends about three times as often as an idle youth
BACKGROUND_OFFENDING = 0.02  # offenders per resident from the general population, scaled by disadvantage
EFFICACY_GUARDIANSHIP = 0.8
STREET_TYPES = (ROBBERY, EXTORTION, ASSAULT)
TALLY_NAMES = ("robberies", "extortions", "assaults")  # in STREET_TYPES order
ASSAULT_ROW = STREET_TYPES.index(ASSAULT)  # the one street crime property guardianship does not deter

# Terms kept between steps are held per model, one entry each: (world, residents, census terms, the offender inputs
# they were worked out from, offender terms, step buffers). Weak keys: an entry goes with its model, and a copied or
# unpickled model is a new key that works its terms out afresh. An entry is one tuple, replaced whole and read once,
# so models stepped in turn or in other threads never see another model's terms, nor half of an update.
_kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Buffers:
    """Arrays :func:`step` writes into, kept per model (one model steps in one thread at a time) instead of
    allocated every step; what they hold is used within the step and never handed out.

    ``rates``: expected counts, type x neighbourhood; ``moved``: the crime displaced from each neighbourhood, type x
    neighbourhood; ``sales``: :func:`drug_sales`' expected sales, gang x neighbourhood, and ``totals`` its sales per
    gang.
    """

    __slots__ = ("rates", "moved", "sales", "totals")

    def __init__(self, k: int) -> None:
        self.rates, self.moved = np.empty((len(STREET_TYPES), k)), np.empty((len(STREET_TYPES), k))
        self.sales, self.totals = np.empty((0, k)), np.empty(0, np.int64)  # (sized on first use)


def _entry(model: SecurityModel) -> tuple:
    """The model's kept entry, with census terms (:func:`_fixed`) made for the model's world and residents."""
    world, n = model.world, model.residents
    held = _kept.get(model)
    if held is None or held[0] is not world or held[1] is not n:
        background = BACKGROUND_OFFENDING * world.residents * world.disadvantage
        per_activity = np.array([n, n * world.commerce, n])
        for term in (background, per_activity):
            term.flags.writeable = False
        held = _kept[model] = (world, n, (background, per_activity), None, None,
                               _Buffers(world.n_neighbourhoods))
    return held


def _fixed(model: SecurityModel) -> tuple[np.ndarray, np.ndarray]:
    """Terms that read only the world's census: background offenders per neighbourhood, and targets per unit of
    activity per type (rows: residents, residents x commerce, residents).

    The world never changes once built, so they are kept for the model's world instead of redone each step.
    """
    return _entry(model)[2]


def _offenders(model: SecurityModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted gang members, street offenders (robbery, assault) and extortionists per neighbourhood.

    Extortionists are the members here plus half of those next door: the member views' ``near``.
    """
    hood, views = model.hood, member_views(model)
    youth = hood.youth_offending + model.levers.enrolled_offending * hood.enrolled_offending
    weighted = MEMBER_WEIGHT * views.by_hood.astype(float)
    street = weighted + youth + _fixed(model)[0]
    return weighted, street, views.near


def offenders(model: SecurityModel) -> dict[int, np.ndarray]:
    """Motivated offenders per neighbourhood, by crime type."""
    _, street, extortion = _offenders(model)
    return {ROBBERY: street, ASSAULT: street, EXTORTION: extortion}


def _per_resident(model: SecurityModel, street: np.ndarray, extortion: np.ndarray) -> np.ndarray:
    """scale_c * offenders_c / residents, per type (rows, in STREET_TYPES order)."""
    scale = np.array([model.cal.street_scale[c] for c in STREET_TYPES])[:, None]
    return scale * np.array([street, extortion, street]) / model.residents


def _current(model: SecurityModel) -> tuple:
    """The model's kept entry (see ``_kept``) with its offender terms up to date: :func:`_per_resident` of
    :func:`offenders`, and the gang share of street (robbery, assault) offenders.

    Offenders read the gang-member counts, the census's youth offending, the enrolled-offending lever
    and the world; the street scales are set by the calibration. They change on few steps (the counts
    when someone joins, leaves, is arrested, released or killed; the youth terms at the census), so the
    terms are kept until an input changes: the counts' member views are new when the counts' contents
    differ (a change in place is seen too), the census replaces its youth terms with new arrays (it never
    writes them in place), and the lever and scales are compared as numbers.
    """
    hood, scale = model.hood, model.cal.street_scale
    views, youth, enrolled = member_views(model), hood.youth_offending, hood.enrolled_offending
    levels = (model.levers.enrolled_offending, scale[ROBBERY], scale[EXTORTION], scale[ASSAULT])
    held = _entry(model)
    key = held[3]
    if key is None or key[0] is not views or key[1] is not youth or key[2] is not enrolled or key[3] != levels:
        key = (views, youth, enrolled, levels)
        weighted, street, extortion = _offenders(model)
        factor = _per_resident(model, street, extortion)
        share = np.divide(weighted, street, out=np.zeros_like(street), where=street > 0)
        factor.flags.writeable = share.flags.writeable = False
        held = _kept[model] = (held[0], held[1], held[2], key, (factor, share), held[5])
    return held


@kernel
def _street_rates(per_resident, per_activity, activity, deterrence, efficacy, police, patrol_officers, residents,
                  guardianship, property_guardianship, displacement, police_deterrence, dt, with_levers, displace,
                  spread_from, spread_weight, rates, moved):
    """Expected street crimes this step, type (row: robbery, extortion, assault) x neighbourhood, into ``rates``.

    Per neighbourhood h and type c, with ``efficacy`` the collective efficacy and ``police`` officers per 1,000:

        pressure  = scale_c * offenders_c / residents  *  (targets per unit of activity)_c * activity
        free      = 1 + police_deterrence * (police - patrol officers per 1,000) + 0.8 * efficacy
        general   = (1 + police_deterrence * police + 0.8 * efficacy) * guardianship
        guard     = general * property_guardianship for robbery and extortion, general for assault
                    (``with_levers`` False: ``free`` for every type, guardianship as without programmes)
        rate      = pressure / guard * deterrence * dt

    ``displace`` (asked for, and some neighbourhood's ``displacement`` is not 0): the share ``displacement`` of the
    crime the levers deter here (the rate with ``free`` guardians less the rate) moves to the neighbours (``moved``,
    then spread as :meth:`World.spread` does: each sum starts at 0 and adds its products in slot order), and a rate
    never falls below 0.
    """
    types, k = rates.shape
    if displace:
        displace = False
        for h in range(k):
            if displacement[h] != 0.0:  # (np.count_nonzero's test: a NaN counts)
                displace = True
                break
    for h in range(k):
        guardians = 1.0 + police_deterrence * police[h] + EFFICACY_GUARDIANSHIP * efficacy[h]
        free = 1.0 + police_deterrence * (police[h] - patrol_officers[h] / residents[h] * 1000.0) \
            + EFFICACY_GUARDIANSHIP * efficacy[h]
        general = guardians * guardianship[h]
        for c in range(types):
            pressure = per_resident[c, h] * (per_activity[c, h] * activity[h])
            if not with_levers:
                guard = free
            elif c == ASSAULT_ROW:
                guard = general
            else:
                guard = general * property_guardianship[h]
            rates[c, h] = pressure / guard * deterrence[h] * dt
            if displace:
                deterred = pressure / free * deterrence[h] * dt - rates[c, h]
                if deterred <= 0.0:  # (np.maximum(deterred, 0.0), signed zero and NaN as numpy gives them)
                    deterred = 0.0
                moved[c, h] = displacement[h] * deterred
    if displace:
        for c in range(types):
            for h in range(k):
                arriving = 0.0
                for slot in range(spread_from.shape[0]):
                    origin = spread_from[slot, h]
                    if origin == k:  # no more links (the padding would add +0.0, which changes no sum begun at +0.0)
                        break
                    arriving += spread_weight[slot, h] * moved[c, origin]
                rate = rates[c, h] + arriving
                rates[c, h] = 0.0 if rate <= 0.0 else rate  # (np.maximum(rate, 0.0), as above)


def _expected(model: SecurityModel, per_resident: np.ndarray, per_activity: np.ndarray, buffers: _Buffers,
              with_levers: bool = True, displace: bool = True) -> np.ndarray:
    """:func:`_street_rates` for the model as it stands (displacement only where a lever asks for it)."""
    lv, world = model.levers, model.world
    _street_rates(per_resident, per_activity, model.activity(), model.deterrence(), model.hood.efficacy,
                  model.police.per_1000, lv.patrol_officers, model.residents, lv.guardianship, lv.property_guardianship,
                  lv.displacement, model.scenario.police.deterrence, model.dt_years, with_levers,
                  displace and with_levers, world.spread_from, world.spread_weight, buffers.rates, buffers.moved)
    return buffers.rates


def expected_street_crime(model: SecurityModel, with_levers: bool = True,
                          displace: bool = False) -> dict[int, np.ndarray]:
    """Expected counts this step per type and neighbourhood (new arrays), before displacement unless ``displace``.

    ``with_levers`` False: as if no programme ran (guardians, patrols and displacement as without levers).
    """
    held = _current(model)
    rates = _expected(model, held[4][0], held[2][1], _Buffers(model.world.n_neighbourhoods), with_levers, displace)
    return dict(zip(STREET_TYPES, rates, strict=True))


_victim_weights: dict[float, tuple[np.ndarray, np.ndarray, list, list]] = {}


def _victim_weights_for(model: SecurityModel) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Victim acceptance as tables by status byte and past victimisations (0, 1, 2, 3+).

    The weight is (1 + r * past) / (1 + 3 r), times 1 where the status fits and 0 where not: for any
    victim (not detained) and for a business victim (employed and not detained). Looking a person's
    acceptance up is elementwise the same arithmetic as working it out per person, in fewer numpy
    calls; the tables are kept per value of r (read-only), as they are asked for several times a step.
    Returns both tables as arrays and then as nested lists of Python floats (for one person at a time).
    """
    r = model.scenario.crime.repeat_victimisation
    tables = _victim_weights.get(r)
    if tables is None:
        weight = (1.0 + r * np.arange(4.0)) / (1.0 + 3.0 * r)
        status = np.arange(256, dtype=np.uint8)[:, None]
        free = (status & Status.DETAINED) == 0
        employed_free = (status & (Status.EMPLOYED | Status.DETAINED)) == Status.EMPLOYED
        if len(_victim_weights) >= 16:  # a sweep brings a new value with every run: keep a few
            _victim_weights.clear()
        any_victim, business = weight * free, weight * employed_free
        for table in (any_victim, business):
            table.flags.writeable = False
        tables = _victim_weights[r] = (any_victim, business, any_victim.tolist(), business.tolist())
    return tables


def repeat_weight(model: SecurityModel):
    """Acceptance for victims: more likely if victimised before (capped at three times); never the detained.

    ``accept.one(i)`` is the same for one person, in Python numbers (see population.sample_in_blocks).
    """
    people = model.people
    tables = _victim_weights_for(model)
    table, rows = tables[0], tables[2]
    status, past = people.status, people.victimisations

    def accept(ids: np.ndarray) -> np.ndarray:
        return table[status[ids], np.minimum(past[ids], 3)]

    def one(i: int) -> float:  # (item: Python ints, which compare faster than numpy scalars)
        return rows[status.item(i)][min(past.item(i), 3)]

    accept.one = one
    return accept


def business_victim(model: SecurityModel):
    """Extortion victims are working adults (shopkeepers, bus drivers, vendors), as :func:`repeat_weight`."""
    people = model.people
    tables = _victim_weights_for(model)
    table, rows = tables[1], tables[3]
    status, past = people.status, people.victimisations
    day = model.day

    def accept(ids: np.ndarray) -> np.ndarray:
        employed_free = table[status[ids], np.minimum(past[ids], 3)]
        return employed_free * (people.age(ids, day) >= 18)

    def one(i: int) -> float:  # the same table entry, times the same bool
        employed_free = rows[status.item(i)][min(past.item(i), 3)]
        if not employed_free:  # +0 whatever the age (0 x 1 = 0 x 0 = +0): no need to work the age out
            return employed_free
        return employed_free * (people.age_of(i, day) >= 18)

    accept.one = one
    return accept


def offender_gang(model: SecurityModel, rng: np.random.Generator, hoods: np.ndarray,
                  share: np.ndarray | None) -> np.ndarray:
    """Gang behind each incident (-1 if none), given the gang share of offending per neighbourhood.

    ``share`` None: every incident is a gang's (extortion). The draw for involvement is made all the same.
    """
    u_involved = rng.random(hoods.size)
    if share is None:  # u < 1 always: every incident involved
        return gang_by_control(model, rng, hoods)
    gang = np.empty(hoods.size, np.int8)
    gang.fill(-1)  # (empty and fill: half the cost of np.full on a few values)
    involved = u_involved < share[hoods]
    if np.count_nonzero(involved):
        gang[involved] = gang_by_control(model, rng, hoods[involved])
    return gang


def _lethal(rng: np.random.Generator, hoods: np.ndarray, p_kill: float, lethality: np.ndarray) -> np.ndarray | None:
    """Which crimes turn lethal, each with chance ``p_kill * lethality`` where it happens; None if none does."""
    lethal = np.empty(hoods.size, bool)
    _turn_lethal(rng.random(hoods.size), p_kill, lethality, hoods, lethal)
    return lethal if np.count_nonzero(lethal) else None


@kernel
def _turn_lethal(u, p_kill, lethality, hoods, out):
    """Whether each crime turns lethal, into ``out``: with u its uniform draw and h its neighbourhood,
    u < p_kill * lethality_h."""
    for i in range(out.size):
        out[i] = u[i] < p_kill * lethality[hoods[i]]


def step(model: SecurityModel, rng: np.random.Generator) -> None:
    """Draw today's street crimes, their victims, and which turn lethal; and retail drug sales."""
    # once a step: nothing these read changes before the draws
    held = _current(model)  # this model's kept terms, brought up to date: one lookup a step
    _, per_activity = held[2]
    hood_ids = model.world.hood_ids
    per_resident, street_share = held[4]
    buffers = held[5]  # (arrays written in place: the step allocates none for its expected counts)
    rates = _expected(model, per_resident, per_activity, buffers)
    lethality = None  # asked for on the first crime of the day (most days have some; nothing it reads changes)
    with_gangs = model.control.shape[0] > 0
    street_accept = None  # robbery's and assault's victim acceptance: one serves both (it reads the people when called)
    for row, c in enumerate(STREET_TYPES):
        counts = draws.poisson(rng, rates[row])
        hoods = hood_ids.repeat(counts)
        if hoods.size == 0:
            continue
        if c == EXTORTION:
            accept = business_victim(model)
        else:
            if street_accept is None:
                street_accept = repeat_weight(model)
            accept = street_accept
        victims = sample_in_blocks(rng, model.people.block_start, hoods, accept)
        if lethality is None:
            lethality = model.lethality()
        # Did some incident find nobody acceptable in its neighbourhood (-1)? For a few, searching a Python
        # list costs less than a numpy comparison.
        missing = -1 in victims.tolist() if victims.size <= FEW else np.count_nonzero(victims < 0)
        if missing:  # those incidents are dropped
            ok = victims >= 0
            hoods, victims = hoods[ok], victims[ok]
        if c == EXTORTION:
            share = None  # every extortion is a gang's
            p_kill = model.cal.extortion_killing
        else:
            share = street_share  # gang share of robbery and assault offenders (the same offenders)
            p_kill = model.cal.escalation
        gang = offender_gang(model, rng, hoods, share) if with_gangs else np.full(hoods.size, -1, np.int8)
        lethal = _lethal(rng, hoods, p_kill, lethality)
        kind = c if lethal is None else np.where(lethal, np.int8(HOMICIDE), np.int8(c))  # int8, as Incidents keeps it
        model.incidents.add(kind, hoods, victims, gang)
        if lethal is not None:  # what follows is for the crimes that did not turn lethal (on most days, all of them)
            spared = ~lethal
            hoods, gang = hoods[spared], gang[spared]
        if c == EXTORTION:
            paid = gang >= 0
            model.collect_extortion(hoods[paid], gang[paid])
        model.tally.count(TALLY_NAMES[row], hoods)
    drug_sales(model, rng, buffers)


@kernel
def _sales_means(drug_scale, control, stock, reference, residents, dt, deterrence, out):
    """Expected retail sales, gang x neighbourhood, into ``out``: a gang g sells where it holds territory, in
    proportion to the people there, as far as the drugs it holds allow (availability, 0-1):

        availability_g = stock_g / (stock_g + reference stock_g + 1e-12)
        sales_gh       = drug_scale * control_gh * availability_g * residents_h * dt * deterrence_h
    """
    for g in range(out.shape[0]):
        availability = stock[g] / (stock[g] + reference[g] + 1e-12)
        for h in range(out.shape[1]):
            out[g, h] = drug_scale * control[g, h] * availability * residents[h] * dt * deterrence[h]


@kernel
def _sell(sales, kg_per_sale, stock, totals, tally):
    """The day's retail sales (gang x neighbourhood counts) taken from the gangs' stocks, in place: per gang g,

        totals_g = the sales of g (integers: an exact sum)
        stock_g -= the lesser of totals_g * kg_per_sale and stock_g (Python's min: the first where neither is less)
        tally_h += sales_gh (gangs in order; a gang without sales adds nothing)
    """
    for g in range(sales.shape[0]):
        total = 0
        for h in range(sales.shape[1]):
            total += sales[g, h]
        totals[g] = total
        if total == 0:
            continue
        used = total * kg_per_sale
        if stock[g] < used:
            used = stock[g]
        stock[g] -= used
        for h in range(sales.shape[1]):
            tally[h] += sales[g, h]


def drug_sales(model: SecurityModel, rng: np.random.Generator, buffers: _Buffers) -> None:
    """Retail sales by each gang in its territory, limited by the drugs it holds.

    ``buffers``: :func:`step`'s, to work the expected sales out in.
    """
    gangs = model.gang_list
    if not gangs:
        return
    cal = model.cal
    # every gang's expected sales at once (rows: gang_list is in gang id order, as the rows of control and of the
    # reference stocks); each gang's availability reads only its own stock, which only its own sales below change
    stock = np.array([g.drug_stock_kg for g in gangs])
    control = model.control
    lam = buffers.sales
    if lam.shape != control.shape:
        lam = buffers.sales = np.empty(control.shape)
        buffers.totals = np.empty(control.shape[0], np.int64)
    _sales_means(cal.drug_scale, control, stock, cal.stock_reference_kg, model.residents, model.dt_years,
                 model.deterrence(), lam)
    # One Poisson call for all gangs: it draws element by element in C order, row after row, so the
    # draws are those of one call per gang (nothing else draws in between), without the array call's
    # fixed cost (its argument checks) once per gang.
    sales = draws.poisson(rng, lam)
    totals = buffers.totals
    _sell(sales, model.traffic.kg_per_sale, stock, totals, model.tally.hood["drug_sales"])
    margin = model.scenario.gangs.drug_margin_usd
    for gang, total, left in zip(gangs, totals.tolist(), stock.tolist(), strict=True):  # (a handful of gangs)
        if total:
            gang.drug_stock_kg = left
            gang.revenue_today += total * margin
