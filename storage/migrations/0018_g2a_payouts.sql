-- What G2A pays the shop per unit of a confirmed sale (EUR): the income of G2A's price
-- simulation at our listing price, taken at confirmation (the lowest of its country
-- groups: the buyer's country is not told). NULL until known; /stats shows it.
ALTER TABLE g2a_reservations ADD COLUMN payout DOUBLE PRECISION;
