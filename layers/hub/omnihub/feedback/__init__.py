"""Feedback classification (SPEC 4.3): intent, sentiment, topics, food-safety risk, evidence."""
