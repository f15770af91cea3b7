"""What customers may call menu items, toppings and crusts, and the rule that keeps those names
apart: a name, code or alias names one item at most, and one modifier (topping or crust) at
most, compared as the parser reads them (case, accents, plurals, punctuation and the word
"pizza" aside). A topping may share a name with an item ("pepperoni": the pizza, or the
topping on another pizza): the parser tells them apart by place. Two crusts (or a crust and a
topping) that answer to "gluten free" would make the price depend on which one the parser
met first, so the admin refuses the second (`conflicts`), and `manage.py check_menu` lists
any already there."""

from .parser import phrase_key


def keys(*names):
    """The parser's keys of `names` (code, name, aliases), each once, with what was written."""
    found = {}
    for name in names:
        key = phrase_key(name)
        if key:
            found.setdefault(key, name)
    return found


def _owners(models, exclude=None):
    for model in models:
        for row in model.objects.all():
            if exclude is not None and (model, row.pk) == exclude:
                continue
            for key, written in keys(row.code, row.name, *row.alias_list).items():
                yield key, written, row


def conflicts(instance):
    """Messages, one per name of `instance` (a MenuItem, Topping or Crust, saved or not) that
    another row of its group already answers to."""
    from .models import Crust, MenuItem, Topping

    group = (MenuItem,) if isinstance(instance, MenuItem) else (Topping, Crust)
    mine = keys(instance.code, instance.name, *instance.alias_list)
    found = []
    for key, written, other in _owners(group, exclude=(type(instance), instance.pk)):
        if key in mine:
            found.append(
                f'"{mine[key]}" already names {other._meta.verbose_name} {other} '
                f'(as "{written}"): each name may mean one thing only.'
            )
    return found


def menu_conflicts():
    """Every name two rows of one group answer to: [(name, [rows])]."""
    from .models import Crust, MenuItem, Topping

    found = []
    for group in ((MenuItem,), (Topping, Crust)):
        seen = {}
        for key, written, row in _owners(group):
            seen.setdefault(key, (written, []))[1].append(row)
        found += [(written, rows) for written, rows in seen.values() if len(rows) > 1]
    return found
