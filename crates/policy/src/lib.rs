//! Escalation policy as code.
