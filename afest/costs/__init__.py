"""What an in-house AFEST costs its employer: hourly costs, other costs, evaluation times, and
the statement of expenses built from them (the computation: afest.proof.expenses)."""
