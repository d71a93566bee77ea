"""diff24 review of e430ed4..HEAD (lr-scaled fused step, synthetic data checks, verdict)."""

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_describes_the_lr_scaled_step_as_the_code_now_takes_it():
    # README's optimizer section still says the lr-scaled call steps a *copy* of θ with lr = 1
    # and blends θ₀ + η_k(θ₁ − θ₀), decay outside only "where it is decoupled or per-model";
    # since 7a8b1e5 the kernel steps a zero copy with lr = η_max, each model adds
    # (η_k/η_max)·Δ, and λ is always outside
    text = " ".join(README.read_text().split())
    assert "steps a copy of the parameters with lr = 1" not in text
    assert "θ₀ + η_k(θ₁ − θ₀)" not in text
    assert "where it is decoupled or per-model" not in text
