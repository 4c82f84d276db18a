"""Treatment protocols: editable templates (:mod:`.templates`), plans on real dates (:mod:`.calendar`) and booster
rules (:mod:`.boosters`).

Every rule cites its row in ``docs/references/clinical.md``. Where that file is silent or marks a value UNVERIFIED,
nothing is assumed (each module says where).
"""
