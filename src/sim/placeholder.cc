// Placeholder so that the component library exists before its first source.
namespace mh {
int sim_placeholder = 0;
}
