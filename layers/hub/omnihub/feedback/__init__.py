"""Feedback classification: intent, sentiment, topics, food-safety risk, evidence."""
