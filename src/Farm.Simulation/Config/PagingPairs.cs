using Farm.Simulation.GuestCode;

namespace Farm.Simulation.Config;

/// <summary>
/// vm.paging and guest.flavour must agree: a flavour's routines write ptes of one size and layout.
/// Checked when a workload file is resolved into a trial (so `farm run` and sweep expansion reject a
/// mismatch before anything runs) and again when the VM is built.
/// </summary>
public static class PagingPairs
{
    public static string Mismatch(string flavour, string flavourPaging, string paging) =>
        $"guest.flavour: '{flavour}' is built for vm.paging {flavourPaging}, not {paging}; valid pairs: {GuestFlavour.ValidPairs()}";

    /// <summary>Throws <see cref="ConfigException"/> when the resolved guest.flavour is not one for vm.paging.</summary>
    public static void Check(SimConfig config)
    {
        string paging = config.Text("vm.paging"), flavour = config.Text("guest.flavour");
        string flavourPaging = GuestFlavour.PagingOf(flavour);
        if (flavourPaging != paging) throw new ConfigException(Mismatch(flavour, flavourPaging, paging));
    }
}
