"""Versioned product terms and rules, benefit per yuan, the ML gate, and the decision."""
