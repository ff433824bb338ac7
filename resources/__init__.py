"""Data shipped with Meeting Buddy: selector packs, bot scripts, simulator pages."""
