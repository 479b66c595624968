"""Screens pushed over the main one: confirmations, help, a timeline entry's detail."""
