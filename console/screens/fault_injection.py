"""The instructor's fault injection dialog: a kind, its target, its parameters and duration, a live preview.

The kind is picked from the catalogue (grouped by target: GPU, satellite, link, station, fleet). The target
follows the kind: a satellite (pre-filled with the selected one) and one of its GPUs or laser links, a
ground station, or nothing for a fleet-wide fault. Each parameter shows its range or choices and default
and is checked with the catalogue's ``Parameter.check``; the duration is checked against the kind's range,
or the fault is made permanent where the kind allows it. The preview states what the fault breaks, what
the operator will see and the concrete target.

Submitting (Enter in a field, or the Inject button) asks for confirmation first, with No focused (a
hazardous action, like ``ConfirmScreen`` everywhere). On Yes the dialog calls ``apply(request)``, which
returns None when the engine took the fault, or the engine's reason for refusing it: the reason is shown
here and the dialog stays open, so the instructor can correct the request. A value refused here never
reaches the engine. Escape closes without injecting. Dismisses with the accepted request, or None.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from console.screens.confirm import ConfirmScreen
from engine.durations import format_duration, parse_duration
from engine.fault_catalogue import FaultKind, FaultType, Parameter, Target, repair_part
from engine.faults import FaultRequest

__all__ = ["FaultInjectionScreen", "FaultTargets", "TARGET_NAMES", "duration_text", "in_sentence", "parameter_text"]

TARGET_NAMES = {Target.GPU: "GPU", Target.SATELLITE: "satellite", Target.LINK: "link", Target.STATION: "station", Target.FLEET: "fleet"}
TARGET_ORDER = tuple(Target)
PART_NAMES = {"gpu_board": "GPU board", "isl_terminal": "laser terminal"}
"""Parts whose name reads badly with underscores replaced."""


@dataclass(frozen=True)
class FaultTargets:
    """What the dialog may aim at, read from the driver by the app (the screen holds no engine objects)."""

    catalogue: Mapping[FaultKind, FaultType]
    satellites: Collection[str]
    stations: Sequence[tuple[str, str]]
    """(station id, text) for the station picker."""
    gpus: Callable[[str], Sequence[tuple[int, str]]]
    """A satellite's GPUs as (index, text: state and job)."""
    links: Callable[[str], Sequence[tuple[str, str]]]
    """A satellite's laser links as (peer id, text: state and length)."""
    hidden: bool = False
    """The mission hides faults from the operator (training)."""


def in_sentence(title: str) -> str:
    """A kind's title inside a sentence: 'radiator damage', but 'GPU hang (SEFI)' and 'ECC storm'."""
    return title if title[:2].isupper() else title[:1].lower() + title[1:]


def _number(value: float) -> str:
    return f"{value:g}"


def parameter_text(parameter: Parameter) -> str:
    """'upset rate multiplier · 2–1000 × · default 50' (or the choices)."""
    default = parameter.default if isinstance(parameter.default, str) else _number(parameter.default)
    if parameter.choices:
        mentioned = all(choice in parameter.description for choice in parameter.choices)
        allowed = "" if mentioned else f" · {' / '.join(parameter.choices)}"
        return f"{parameter.description}{allowed} · default {default}"
    unit = f" {parameter.unit}" if parameter.unit else ""
    allowed = f"{_number(parameter.low or 0.0)}–{_number(parameter.high or 0.0)}{unit}"
    return f"{parameter.description} · {allowed} · default {default}"


def duration_text(spec: FaultType) -> str:
    """'10s–6h · default 5m' (or '· default permanent')."""
    low, high = spec.duration_range_s
    default = "permanent" if spec.default_duration_s is None else format_duration(spec.default_duration_s)
    return f"{format_duration(low)}–{format_duration(high)} · default {default}"


class FaultInjectionScreen(ModalScreen[FaultRequest | None]):
    """Compose one ``FaultRequest`` and inject it after a confirmation."""

    DEFAULT_CSS = """
    FaultInjectionScreen {
        align: center middle;
    }
    FaultInjectionScreen > #fault-dialog {
        width: 96;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        background: $panel;
        border: thick $warning;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    FaultInjectionScreen #fault-form {
        height: auto;
        max-height: 1fr;
        padding: 0 1;
    }
    FaultInjectionScreen .fault-row {
        height: auto;
        margin-top: 1;
    }
    FaultInjectionScreen .fault-row.-tight {
        margin-top: 0;
    }
    FaultInjectionScreen .fault-label {
        width: 15;
        color: $text-muted;
    }
    FaultInjectionScreen .fault-help {
        width: 1fr;
        margin-left: 2;
        color: $text-muted;
    }
    FaultInjectionScreen #fault-kind {
        width: 1fr;
    }
    FaultInjectionScreen #fault-satellite {
        width: 16;
    }
    FaultInjectionScreen #fault-gpu, FaultInjectionScreen #fault-link, FaultInjectionScreen #fault-station {
        width: 1fr;
    }
    FaultInjectionScreen .fault-param-input, FaultInjectionScreen .fault-param-select {
        width: 18;
    }
    FaultInjectionScreen #fault-duration {
        width: 12;
    }
    FaultInjectionScreen #fault-permanent {
        margin-left: 2;
    }
    FaultInjectionScreen #fault-params {
        height: auto;
    }
    FaultInjectionScreen #fault-preview {
        width: 1fr;
        height: auto;
        margin-top: 1;
        padding: 0 1;
        background: $boost;
    }
    FaultInjectionScreen #fault-hidden-note {
        width: 1fr;
        color: $text-warning;
    }
    FaultInjectionScreen #fault-error {
        width: 1fr;
        height: auto;
        color: $text-error;
    }
    FaultInjectionScreen #fault-buttons {
        height: auto;
        padding: 0 1;
        align-horizontal: right;
    }
    FaultInjectionScreen #fault-buttons > Button {
        margin-left: 2;
    }
    FaultInjectionScreen #fault-hint {
        width: 1fr;
        padding: 0 1;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
    ]

    def __init__(
        self,
        targets: FaultTargets,
        apply: Callable[[FaultRequest], str | None],
        *,
        satellite: str | None = None,
        kind: FaultKind | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`apply` injects a request and returns None, or the engine's reason for refusing it; `satellite`
        pre-fills the target; `kind` is the kind shown first (default: the catalogue's first)."""
        super().__init__(name=name, id=id, classes=classes)
        self.targets = targets
        self.apply = apply
        self.kinds = tuple(sorted(targets.catalogue, key=lambda k: TARGET_ORDER.index(targets.catalogue[k].target)))
        self.kind = kind if kind in targets.catalogue else self.kinds[0]
        self.initial_satellite = satellite or ""
        self.error = ""
        """The reason the last attempt was refused, here or by the engine ('' when it was not)."""
        self._gpu_texts: dict[int, str] = {}
        self._link_texts: dict[str, str] = {}
        self._params_kind: FaultKind | None = None

    @property
    def spec(self) -> FaultType:
        return self.targets.catalogue[self.kind]

    # ------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        options = [(f"{TARGET_NAMES[self.targets.catalogue[k].target]:<10}{self.targets.catalogue[k].title}", k.value) for k in self.kinds]
        with Vertical(id="fault-dialog") as dialog:
            dialog.border_title = "Inject fault"
            dialog.border_subtitle = "instructor"
            with VerticalScroll(id="fault-form"):
                if self.targets.hidden:
                    yield Label("Training mission: operators see only the symptoms; nothing of this is logged.", id="fault-hidden-note", markup=False)
                with Horizontal(classes="fault-row"):
                    yield Label("Fault", classes="fault-label")
                    yield Select(options, value=self.kind.value, allow_blank=False, compact=True, id="fault-kind")
                with Horizontal(classes="fault-row", id="fault-satellite-row"):
                    yield Label("Satellite", classes="fault-label")
                    yield Input(self.initial_satellite, placeholder="satellite id", compact=True, id="fault-satellite")
                    yield Label("", classes="fault-help", id="fault-satellite-help", markup=False)
                with Horizontal(classes="fault-row -tight", id="fault-gpu-row"):
                    yield Label("GPU", classes="fault-label")
                    yield Select([], prompt="choose a GPU", compact=True, id="fault-gpu")
                with Horizontal(classes="fault-row -tight", id="fault-link-row"):
                    yield Label("Laser link to", classes="fault-label")
                    yield Select([], prompt="choose a laser link", compact=True, id="fault-link")
                with Horizontal(classes="fault-row", id="fault-station-row"):
                    yield Label("Station", classes="fault-label")
                    yield Select(list((text, key) for key, text in self.targets.stations), prompt="choose a station", compact=True, id="fault-station")
                with Horizontal(classes="fault-row", id="fault-fleet-row"):
                    yield Label("Target", classes="fault-label")
                    yield Label("the whole fleet", markup=False)
                yield Vertical(id="fault-params")
                with Horizontal(classes="fault-row", id="fault-duration-row"):
                    yield Label("Duration", classes="fault-label")
                    yield Input("", placeholder="e.g. 30m", compact=True, id="fault-duration")
                    yield Checkbox("permanent", compact=True, id="fault-permanent")
                    yield Label("", classes="fault-help", id="fault-duration-help", markup=False)
                yield Static("", id="fault-preview")
                yield Label("", id="fault-error", markup=False)
            with Horizontal(id="fault-buttons"):
                yield Button("Inject…", variant="error", compact=True, id="fault-submit")
                yield Button("Cancel", variant="primary", compact=True, id="fault-cancel")
            yield Label("enter in a field or Inject: confirm first · tab: next field · esc: cancel", id="fault-hint", markup=False)

    async def on_mount(self) -> None:
        self._refresh_satellite()
        await self._show_kind()
        self.query_one("#fault-kind", Select).focus()

    # --------------------------------------------------------------------------------------- the form

    async def _show_kind(self) -> None:
        """Show the target pickers, parameters and duration of the current kind."""
        spec = self.spec
        target = spec.target
        self.query_one("#fault-satellite-row").display = target in (Target.GPU, Target.SATELLITE, Target.LINK)
        self.query_one("#fault-gpu-row").display = target == Target.GPU
        self.query_one("#fault-link-row").display = target == Target.LINK
        self.query_one("#fault-station-row").display = target == Target.STATION
        self.query_one("#fault-fleet-row").display = target == Target.FLEET
        stations = self.query_one("#fault-station", Select)
        if target == Target.STATION and stations.value == Select.NULL and self.targets.stations:
            stations.value = self.targets.stations[0][0]
        if self._params_kind != self.kind:
            self._params_kind = self.kind
            box = self.query_one("#fault-params", Vertical)
            await box.remove_children()
            rows = [self._parameter_row(parameter) for parameter in spec.parameters]
            if rows:
                await box.mount_all(rows)
            duration = self.query_one("#fault-duration", Input)
            duration.value = "" if spec.default_duration_s is None else format_duration(spec.default_duration_s)
            permanent = self.query_one("#fault-permanent", Checkbox)
            permanent.display = spec.may_be_permanent
            permanent.value = spec.default_duration_s is None
            self._set_duration_enabled(not permanent.value)
            self.query_one("#fault-duration-help", Label).update(duration_text(spec))
        self._show_error("")
        self._update_preview()

    def _set_duration_enabled(self, enabled: bool) -> None:
        duration = self.query_one("#fault-duration", Input)
        duration.disabled = not enabled
        duration.placeholder = "e.g. 30m" if enabled else "—"

    def _parameter_row(self, parameter: Parameter) -> Horizontal:
        widget_id = f"param-{self.kind.value}-{parameter.name}"
        if parameter.choices:
            field = Select([(choice, choice) for choice in parameter.choices], value=str(parameter.default), allow_blank=False,
                           compact=True, id=widget_id, classes="fault-param-select")
        else:
            field = Input(_number(float(parameter.default)), type="number", compact=True, id=widget_id, classes="fault-param-input")
        return Horizontal(
            Label(parameter.name, classes="fault-label", markup=False),
            field,
            Label(parameter_text(parameter), classes="fault-help", markup=False),
            classes="fault-row -tight",
        )

    def _satellite_text(self) -> str:
        return self.query_one("#fault-satellite", Input).value.strip()

    def _refresh_satellite(self) -> None:
        """Re-read the satellite's GPUs and laser links for the pickers (after the satellite changed)."""
        satellite = self._satellite_text()
        known = satellite in self.targets.satellites
        gpus = list(self.targets.gpus(satellite)) if known else []
        links = list(self.targets.links(satellite)) if known else []
        self._gpu_texts = {index: text for index, text in gpus}
        self._link_texts = {peer: text for peer, text in links}
        gpu_select = self.query_one("#fault-gpu", Select)
        link_select = self.query_one("#fault-link", Select)
        keep_gpu, keep_peer = gpu_select.value, link_select.value
        with self.prevent(Select.Changed):  # a refresh is not an edit: it must not clear a refusal shown
            gpu_select.set_options([(text, index) for index, text in gpus])
            if gpus:
                gpu_select.value = keep_gpu if keep_gpu in self._gpu_texts else next((index for index, text in gpus if " · OK · " in text), gpus[0][0])
            link_select.set_options([(text, peer) for peer, text in links])
            if links:
                link_select.value = keep_peer if keep_peer in self._link_texts else links[0][0]
        if not satellite:
            help_text = "select one in the fleet table, or type its id"
        elif not known:
            help_text = f"no satellite {satellite!r}"
        else:
            help_text = f"{len(gpus)} GPUs · {len(links)} laser links"
        self.query_one("#fault-satellite-help", Label).update(help_text)

    def _parameter_values(self) -> tuple[dict[str, float | str], str]:
        """(params, '') with every parameter checked, else ({}, the first reason)."""
        values: dict[str, float | str] = {}
        for parameter in self.spec.parameters:
            widget = self.query_one_optional(f"#param-{self.kind.value}-{parameter.name}")
            if widget is None:  # the kind's fields are being mounted
                return {}, f"enter {parameter.name}"
            if isinstance(widget, Select):
                raw: object = widget.value
            else:
                assert isinstance(widget, Input)
                text = widget.value.strip()
                if parameter.unit and text.endswith(parameter.unit):
                    text = text[: -len(parameter.unit)].strip()
                try:
                    raw = float(text)
                except ValueError:
                    return {}, f"{parameter.name} must be a number, got {text!r}" if text else f"enter {parameter.name}: {parameter_text(parameter)}"
            try:
                values[parameter.name] = parameter.check(raw)
            except ValueError as error:
                return {}, str(error)
        return values, ""

    def _duration(self) -> tuple[float | None, bool, str]:
        """(duration_s, permanent, '') or (None, False, reason)."""
        spec = self.spec
        permanent = self.query_one("#fault-permanent", Checkbox)
        if spec.may_be_permanent and permanent.value:
            return None, True, ""
        text = self.query_one("#fault-duration", Input).value.strip()
        if not text:
            return None, False, f"enter a duration: {duration_text(spec)}"
        try:
            seconds = parse_duration(text) if not text.replace(".", "", 1).isdigit() else float(text)
        except ValueError as error:
            return None, False, str(error)
        low, high = spec.duration_range_s
        if not math.isfinite(seconds) or not low <= seconds <= high:
            return None, False, f"duration must be between {format_duration(low)} and {format_duration(high)}, got {text}"
        return seconds, False, ""

    def build_request(self) -> tuple[FaultRequest | None, str]:
        """The request the form describes and '', or (None, why it cannot be sent)."""
        spec = self.spec
        target: dict[str, object] = {}
        if spec.target in (Target.GPU, Target.SATELLITE, Target.LINK):
            satellite = self._satellite_text()
            if not satellite:
                return None, "choose a satellite (type its id)"
            if satellite not in self.targets.satellites:
                return None, f"no satellite {satellite!r}"
            target["satellite"] = satellite
        if spec.target == Target.GPU:
            gpu = self.query_one("#fault-gpu", Select).value
            if gpu == Select.NULL:
                return None, f"{target['satellite']} has no GPU to choose" if not self._gpu_texts else "choose a GPU"
            target["gpu"] = int(gpu)  # type: ignore[arg-type]
        elif spec.target == Target.LINK:
            peer = self.query_one("#fault-link", Select).value
            if peer == Select.NULL:
                return None, f"{target['satellite']} has no laser links" if not self._link_texts else "choose a laser link"
            target["peer"] = str(peer)
        elif spec.target == Target.STATION:
            station = self.query_one("#fault-station", Select).value
            if station == Select.NULL:
                return None, "choose a station"
            target["station"] = str(station)
        params, reason = self._parameter_values()
        if reason:
            return None, reason
        duration_s, permanent, reason = self._duration()
        if reason:
            return None, reason
        return FaultRequest(self.kind, params=params, duration_s=duration_s, permanent=permanent, **target), ""  # type: ignore[arg-type]

    # ---------------------------------------------------------------------------------------- preview

    def target_text(self, detail: bool = False) -> str:
        """The concrete target ('A-01-02 GPU 3', 'ISL A-01-02 ↔ A-01-03'); with `detail`, what the picker says
        about its state now ('A-01-02 GPU 3 (OK · job LLM-1)')."""
        target = self.spec.target
        satellite = self._satellite_text() or "(no satellite)"
        if target == Target.SATELLITE:
            return satellite
        if target == Target.GPU:
            gpu = self.query_one("#fault-gpu", Select).value
            if gpu == Select.NULL:
                return f"{satellite}, no GPU chosen"
            text = self._gpu_texts.get(gpu, "")  # type: ignore[call-overload]
            state = text.split(" · ", 1)[1] if detail and " · " in text else ""
            return f"{satellite} GPU {gpu}" + (f" ({state})" if state else "")
        if target == Target.LINK:
            peer = self.query_one("#fault-link", Select).value
            if peer == Select.NULL:
                return f"{satellite}, no link chosen"
            text = self._link_texts.get(peer, "")  # type: ignore[call-overload]
            state = text.split(" · ", 1)[1] if detail and " · " in text else ""
            return f"ISL {satellite} ↔ {peer}" + (f" (now {state})" if state else "")
        if target == Target.STATION:
            station = self.query_one("#fault-station", Select).value
            return f"station {station}" if station != Select.NULL else "no station chosen"
        return "the whole fleet"

    def preview(self) -> Content:
        spec = self.spec
        duration_s, permanent, reason = self._duration()
        if reason:
            when = "duration not valid"
        elif permanent or duration_s is None:
            when = "permanent (until cleared or repaired)"
        else:
            when = f"for {format_duration(duration_s)}"
        params, _ = self._parameter_values()
        part = repair_part(self.kind, params) if params or not spec.parameters else spec.repair
        if part is not None:
            repair = f"a servicing mission swaps the {PART_NAMES.get(part.value, part.value.replace('_', ' '))}, or clear it"
        elif permanent or (not reason and duration_s is None):
            repair = "clear it (no part swap repairs it)"
        else:
            repair = "it ends by itself after its duration, or clear it"
        lines: list[Content] = [
            Content.assemble((spec.title, "bold $text-warning"), " on ", (self.target_text(detail=True), "bold"), ", ", when),
            Content.assemble(("Breaks   ", "$text-muted"), spec.effect),
            Content.assemble(("Symptoms ", "$text-muted"), " · ".join(spec.symptoms)),
            Content.assemble(("Repair   ", "$text-muted"), repair),
        ]
        return Content("\n").join(lines)

    def _update_preview(self) -> None:
        self.query_one("#fault-preview", Static).update(self.preview())

    def _show_error(self, reason: str) -> None:
        if reason != self.error:
            self.error = reason
            self.query_one("#fault-error", Label).update(reason)

    # ---------------------------------------------------------------------------------------- events

    @on(Select.Changed, "#fault-kind")
    async def _kind_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value != Select.NULL and FaultKind(event.value) != self.kind:
            self.kind = FaultKind(event.value)
            await self._show_kind()

    @on(Input.Changed, "#fault-satellite")
    def _satellite_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refresh_satellite()
        self._show_error("")
        self._update_preview()

    @on(Checkbox.Changed, "#fault-permanent")
    def _permanent_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        duration = self.query_one("#fault-duration", Input)
        self._set_duration_enabled(not event.value)
        if not event.value and not duration.value:
            low, high = self.spec.duration_range_s
            duration.value = format_duration(min(max(3600.0, low), high))
        self._show_error("")
        self._update_preview()

    @on(Input.Changed)
    @on(Select.Changed)
    def _field_changed(self, event: Input.Changed | Select.Changed) -> None:
        event.stop()
        if self.is_mounted and self._params_kind is not None:
            self._show_error("")
            self._update_preview()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, "#fault-submit")
    def _submit_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed, "#fault-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def submit(self) -> None:
        """Check the form; if it is complete, ask to confirm, then apply."""
        request, reason = self.build_request()
        self._show_error(reason)
        if request is None:
            self.app.bell()
            return
        spec = self.spec
        when = "permanently" if request.permanent or request.duration_s is None else f"for {format_duration(request.duration_s)}"
        settings = ", ".join(f"{name} {_number(value) if isinstance(value, float) else value}" for name, value in request.params.items())
        text = f"Inject {in_sentence(spec.title)} on {self.target_text()} {when}{f' ({settings})' if settings else ''}? Effect: {spec.effect}."
        if self.targets.hidden:
            text += " Operators see only its symptoms."

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            refused = self.apply(request)
            if refused:
                self._refresh_satellite()  # the GPU or link states may have changed meanwhile
                self._update_preview()
                self._show_error(f"refused: {refused}")
                return
            self.dismiss(request)

        self.app.push_screen(ConfirmScreen(f"Inject {in_sentence(spec.title)}", text, confirm_label="Inject", decline_label="No"), answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
