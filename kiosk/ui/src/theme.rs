//! Look and building blocks shared by every screen: high-contrast colours, large type sized to
//! the screen height, and buttons that carry an [`Action`].

use bevy::prelude::*;

use crate::Screen;
use crate::action::Action;

/// Background.
pub const BG: Color = Color::srgb(0.05, 0.07, 0.11);
/// Panels.
pub const PANEL: Color = Color::srgb(0.11, 0.14, 0.20);
/// Main text.
pub const FG: Color = Color::WHITE;
/// Secondary text.
pub const MUTED: Color = Color::srgb(0.72, 0.76, 0.84);
/// Highlights.
pub const ACCENT: Color = Color::srgb(1.0, 0.78, 0.20);
/// Primary buttons.
pub const PRIMARY: Color = Color::srgb(0.10, 0.45, 0.90);
/// Secondary buttons.
pub const SECONDARY: Color = Color::srgb(0.24, 0.28, 0.36);
/// Good.
pub const OK: Color = Color::srgb(0.20, 0.75, 0.40);
/// Warnings.
pub const WARN: Color = Color::srgb(0.95, 0.35, 0.30);

/// The font family of every text: WenQuanYi Micro Hei has Chinese and Latin glyphs (Apache-2.0,
/// Debian package `fonts-wqy-microhei`); `run` loads it.
pub const FONT_FAMILY: &str = "WenQuanYi Micro Hei";

/// The kiosk's font at `size` % of the screen height.
pub fn font(size: f32) -> TextFont {
    TextFont {
        font: FontSource::Family(FONT_FAMILY.into()),
        font_size: FontSize::Vh(size),
        ..default()
    }
}

/// Marks a screen's root node (rebuilt when the screen's state changes).
#[derive(Component, Debug)]
pub struct ScreenRoot;

/// A full-screen column that goes away when `screen` is left.
pub fn root<'a>(commands: &'a mut Commands, screen: Screen) -> EntityCommands<'a> {
    commands.spawn((
        Node {
            width: Val::Percent(100.0),
            height: Val::Percent(100.0),
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            justify_content: JustifyContent::Center,
            row_gap: Val::Vh(2.0),
            padding: UiRect::all(Val::Vh(3.0)),
            ..default()
        },
        DespawnOnExit(screen),
        ScreenRoot,
    ))
}

/// Text `size` % of the screen height tall.
pub fn text(p: &mut ChildSpawnerCommands, s: impl Into<String>, size: f32, color: Color) -> Entity {
    p.spawn((
        Text::new(s.into()),
        font(size),
        TextColor(color),
        TextLayout::justify(Justify::Center),
        Node {
            max_width: Val::Percent(90.0),
            ..default()
        },
    ))
    .id()
}

/// How a button looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The main way on.
    Primary,
    /// Other choices.
    Secondary,
    /// Selected (a chosen role, a chosen reason).
    Selected,
    /// Keypad keys.
    Key,
}

/// A button with a label; pressing it sends `action`.
pub fn button(p: &mut ChildSpawnerCommands, label: impl Into<String>, action: Action, kind: Kind) {
    let (bg, size, pad) = match kind {
        Kind::Primary => (PRIMARY, 4.2, 2.0),
        Kind::Secondary => (SECONDARY, 3.4, 1.6),
        Kind::Selected => (OK, 3.4, 1.6),
        Kind::Key => (SECONDARY, 3.6, 1.2),
    };
    p.spawn((
        Button,
        action,
        Node {
            padding: UiRect::axes(Val::Vh(pad * 1.6), Val::Vh(pad)),
            min_width: Val::Vh(if kind == Kind::Key { 8.0 } else { 16.0 }),
            justify_content: JustifyContent::Center,
            align_items: AlignItems::Center,
            border_radius: BorderRadius::all(Val::Vh(1.2)),
            ..default()
        },
        BackgroundColor(bg),
    ))
    .with_children(|b| {
        b.spawn((Text::new(label.into()), font(size), TextColor(FG)));
    });
}

/// A horizontal group.
pub fn row(p: &mut ChildSpawnerCommands, gap: f32, build: impl FnOnce(&mut ChildSpawnerCommands)) {
    p.spawn(Node {
        flex_direction: FlexDirection::Row,
        flex_wrap: FlexWrap::Wrap,
        justify_content: JustifyContent::Center,
        align_items: AlignItems::Center,
        column_gap: Val::Vh(gap),
        row_gap: Val::Vh(gap),
        ..default()
    })
    .with_children(build);
}

/// A vertical panel with a background.
pub fn panel(p: &mut ChildSpawnerCommands, build: impl FnOnce(&mut ChildSpawnerCommands)) {
    p.spawn((
        Node {
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            row_gap: Val::Vh(1.2),
            padding: UiRect::all(Val::Vh(2.0)),
            border_radius: BorderRadius::all(Val::Vh(1.5)),
            // Wide enough that short texts do not wrap (a wrapped text can outgrow its panel).
            min_width: Val::Percent(40.0),
            max_width: Val::Percent(92.0),
            ..default()
        },
        BackgroundColor(PANEL),
    ))
    .with_children(build);
}

/// A panel as wide as the screen allows: texts inside wrap to a known width, so the panel grows
/// with them (for long lines: rosters).
pub fn wide_panel(p: &mut ChildSpawnerCommands, build: impl FnOnce(&mut ChildSpawnerCommands)) {
    p.spawn((
        Node {
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            row_gap: Val::Vh(0.8),
            padding: UiRect::all(Val::Vh(1.6)),
            border_radius: BorderRadius::all(Val::Vh(1.5)),
            width: Val::Percent(90.0),
            ..default()
        },
        BackgroundColor(PANEL),
    ))
    .with_children(build);
}

/// A bar `fraction` full (level meter, countdown).
#[derive(Component, Debug)]
pub struct Bar;

/// Spawns a bar; its fill width is updated through the [`Bar`] child.
pub fn bar(p: &mut ChildSpawnerCommands, marker: impl Component, color: Color) {
    p.spawn((
        Node {
            width: Val::Percent(60.0),
            height: Val::Vh(2.4),
            border_radius: BorderRadius::all(Val::Vh(1.2)),
            ..default()
        },
        BackgroundColor(SECONDARY),
    ))
    .with_children(|b| {
        b.spawn((
            Bar,
            marker,
            Node {
                width: Val::Percent(0.0),
                height: Val::Percent(100.0),
                border_radius: BorderRadius::all(Val::Vh(1.2)),
                ..default()
            },
            BackgroundColor(color),
        ));
    });
}
