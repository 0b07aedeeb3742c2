"""Graded certification (分级认证): eligibility, applications and their approval chain, certificates."""
