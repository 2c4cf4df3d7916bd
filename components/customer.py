"""Pieces of the customer's own pages (My orders, the build page)."""

from __future__ import annotations

import reflex as rx

from state.customer_build import StepRow


def _step(s: rx.Var[StepRow]) -> rx.Component:
    done, current = s.state == "done", s.state == "current"
    return rx.vstack(
        rx.box(
            height="6px",
            width="100%",
            border_radius="3px",
            background=rx.cond(
                done, rx.color("green", 9), rx.cond(current, rx.color("accent", 9), rx.color("gray", 5))
            ),
        ),
        rx.flex(
            rx.cond(
                done,
                rx.icon("circle-check", size=14, color=rx.color("green", 10), flex_shrink="0"),
                rx.cond(
                    current,
                    rx.icon("circle-dot", size=14, color=rx.color("accent", 10), flex_shrink="0"),
                    rx.icon("circle", size=14, color=rx.color("gray", 8), flex_shrink="0"),
                ),
            ),
            rx.text(
                s.label,
                size="1",
                weight=rx.cond(current, "bold", "regular"),
                color_scheme="gray",
                high_contrast=done | current,
                overflow_wrap="anywhere",
            ),
            # a phone has ~65 px a step: the icon goes above the words
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="1",
            align="start",
        ),
        rx.cond(current, rx.text("Now", size="1", color=rx.color("accent", 11)), rx.fragment()),
        spacing="1",
        min_width="0",
        role="listitem",
        aria_current=rx.cond(current, "step", "false"),
        data_testid="progress-step",
        data_state=s.state,
    )


def progress_steps(steps: rx.Var[list[StepRow]], testid: str = "build-progress") -> rx.Component:
    """The five steps of a PC (parts received → shipped) as a segmented bar
    with words under each segment: done, now, still to come."""
    return rx.grid(
        rx.foreach(steps, _step),
        columns="5",
        spacing="2",
        width="100%",
        role="list",
        aria_label="Build progress",
        data_testid=testid,
    )


def section(title: str, icon: str, *children: rx.Component, testid: str) -> rx.Component:
    """A titled card of the build page."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(icon, size=18, color=rx.color("accent", 10)), rx.heading(title, size="4"), align="center"
            ),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid=testid,
    )


def quiet(text: str | rx.Var, **props) -> rx.Component:
    """A line saying what is not there yet."""
    return rx.text(text, size="2", color_scheme="gray", **props)
