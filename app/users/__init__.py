"""Users, profiles, invite codes and referrals."""
