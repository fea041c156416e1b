create table h as select `key`, sum(v) total from s
window hopping (size 10 minutes, advance by 1 minute, grace 5 seconds)
group by `key` emit changes
